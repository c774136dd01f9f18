/* v2err.c - lookups in the etcd v2 error table (see v2err.h). */
#include "kv/v2err.h"

const char *v2err_message(int code)
{
	switch (code) {
#define V2ERR_MSG(c, name, msg, status) \
	case c:                         \
		return msg;
		V2ERR_TABLE(V2ERR_MSG)
#undef V2ERR_MSG
	}
	return "";
}

int v2err_http_status(int code)
{
	switch (code) {
#define V2ERR_STATUS(c, name, msg, status) \
	case c:                            \
		return status;
		V2ERR_TABLE(V2ERR_STATUS)
#undef V2ERR_STATUS
	}
	return 400;
}
