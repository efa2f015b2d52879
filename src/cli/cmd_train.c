/* nasrank train — placeholder until the command lands. */
#include "cli/cli.h"

int cmd_train(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "nasrank train: not implemented yet\n");
    return CLI_ERR;
}
