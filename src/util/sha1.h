/* sha1.h - SHA-1 (FIPS 180-1), used only to derive etcd-compatible member and
 * cluster IDs. Pure. */
#ifndef CETCD_SHA1_H
#define CETCD_SHA1_H

#include <stddef.h>
#include <stdint.h>

void sha1(const void *data, size_t len, uint8_t out[20]);

#endif /* CETCD_SHA1_H */
