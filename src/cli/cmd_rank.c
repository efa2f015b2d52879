/* nasrank rank — placeholder until the command lands. */
#include "cli/cli.h"

int cmd_rank(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "nasrank rank: not implemented yet\n");
    return CLI_ERR;
}
