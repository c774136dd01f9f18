/* version.h - the etcd versions cetcd reports: it speaks etcd 3.4's v2 API. */
#ifndef CETCD_VERSION_H
#define CETCD_VERSION_H

#define ETCD_COMPAT_VERSION	    "3.4.23"
#define ETCD_COMPAT_CLUSTER_VERSION "3.4.0"

#endif /* CETCD_VERSION_H */
