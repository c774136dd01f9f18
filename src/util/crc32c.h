/* crc32c.h - CRC-32C (Castagnoli, polynomial 0x1EDC6F41 reflected 0x82F63B78),
 * the checksum of the WAL records and snapshot files. Pure: no I/O. */
#ifndef CETCD_CRC32C_H
#define CETCD_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extends crc (0 for a fresh checksum) over len bytes of data and returns
 * the new checksum. Chaining works: crc32c(crc32c(0, a), b) equals the
 * checksum of a followed by b. crc32c(0, "123456789", 9) == 0xE3069283.
 * Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at
 * run time), else a slice-by-8 table. Thread-safe. */
uint32_t crc32c(uint32_t crc, const void *data, size_t len);

/* The portable slice-by-8 path alone (for tests: both paths must agree). */
uint32_t crc32c_sw(uint32_t crc, const void *data, size_t len);

#endif /* CETCD_CRC32C_H */
