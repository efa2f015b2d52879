/* nasrank search — placeholder until the command lands. */
#include "cli/cli.h"

int cmd_search(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "nasrank search: not implemented yet\n");
    return CLI_ERR;
}
