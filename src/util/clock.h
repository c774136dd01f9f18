/* clock.h - the only clock reads in cetcd. Called by the loop and the HTTP
 * edge; the Raft core and the store receive time as data. */
#ifndef CETCD_CLOCK_H
#define CETCD_CLOCK_H

#include <stdint.h>

uint64_t clock_mono_ms(void); /* monotonic milliseconds, for timers */
uint64_t clock_mono_us(void); /* monotonic microseconds, for durations */
int64_t clock_wall_ns(void);  /* wall clock, unix nanoseconds */

#endif /* CETCD_CLOCK_H */
