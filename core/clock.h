/* core/clock.h — monotonic wall clock in seconds. */
#ifndef XB_CLOCK_H
#define XB_CLOCK_H
double xb_now(void);          /* CLOCK_MONOTONIC, seconds */
double xb_clock_res(void);    /* resolution of that clock, seconds */
#endif
