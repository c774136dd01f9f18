/* auth.c - etcdctl's user, role and auth commands: not implemented yet in
 * cetcdctl; they say so and exit 1 (doc/cetcdctl.md). */
#include <stdio.h>

#include "ctl/ctl.h"

int ctl_cmd_auth(const char *cmd, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr,
		"cetcdctl: %s commands are not implemented yet: use etcdctl 3.4 "
		"(ETCDCTL_API=2) for the v2 auth API\n",
		cmd);
	return 1;
}
