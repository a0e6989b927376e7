// Package calendar computes business time: the part of a span of real time
// that falls inside a queue's opening hours (SPEC §4). Response SLAs and
// first-response times are measured in it, so a message that waits from
// Friday 17:55 to Monday 09:05 has waited 10 business minutes, not 63 hours.
//
// # Model
//
// A Calendar is a list of versions (config.CalendarVersion), each with an
// IANA time zone, weekly opening intervals in wall-clock local time, whole
// local dates closed (holidays) and dates with other hours (exceptions; an
// empty list closes the day). For each local date the hours are, in order
// of precedence: the exception of that date, closed if it is a holiday, the
// weekday's intervals.
//
// A version is in force from 00:00 local time of its valid_from date, in its
// own time zone, until the next version takes over, so a calendar change
// never rewrites earlier periods. Before the first version's valid_from the
// first version applies: a calendar is usually written after the data it
// describes started, and measuring that older data as open 24×7 would turn
// every overnight wait into a breach.
//
// BusinessTime(from, to) is the length of the overlap of [from, to) with
// the opening hours: the real time during which the queue is open, where
// the queue is open at an instant when the wall-clock time of that instant,
// in the zone of the version in force, lies in an opening interval of that
// instant's local date. Intervals are half-open: an instant exactly at
// opening time counts from there, one exactly at closing time counts
// nothing, and splitting a span at any instant never changes the sum.
//
// # Daylight saving time
//
// Because openness is decided by the wall clock, each opening interval
// holds exactly the real time the clocks spend inside it:
//
//   - A wall time that never occurs (clocks go forward) adds nothing. On
//     2026-03-29 in Europe/London (01:00 GMT → 02:00 BST) 01:00-03:00 holds
//     1 real hour, 01:00-02:00 none, and 00:00-24:00 holds 23 hours.
//   - A wall time that occurs twice (clocks go back) counts both times. On
//     2026-10-25 in Europe/London (02:00 BST → 01:00 GMT) 01:00-02:00 holds
//     2 real hours, 01:00-03:00 holds 3, and 00:00-24:00 holds 25, as a
//     person working those hours does. The same holds in America/New_York
//     on 2026-03-08 and 2026-11-01.
//
// This is computed exactly from the zone's offset changes: each interval's
// wall-clock bounds are intersected with every stretch of constant offset
// around the day. The simpler recipe, converting each bound with
// time.Date and intersecting the results, is used for no day: where a wall
// time is missing or repeated, time.Date picks an instant by rules that
// differ between zones (for 01:00 it picks the second occurrence in
// Europe/London on 2026-10-25 but the first in America/New_York on
// 2026-11-01), so 01:00-02:00 would be worth 1 hour in London and 2 in New
// York. On every other day the two recipes agree exactly, and a day far
// from any change takes the fast path of one offset for the whole day.
//
// A version starts at the first instant its valid_from date is reached
// locally: 00:00 in its zone, or the instant of the jump if the clocks skip
// midnight that day.
//
// Offsets come from a table of the zone's offset changes built once per
// zone for 1970-2099, checked against the time package (whose ZoneBounds
// misreports bounds in years computed from a zone's rule, e.g. 2040). A day
// outside that range uses the offset in force at its start.
//
// # Cost
//
// BusinessTime does no allocation and walks local days, not minutes: a wait
// of three weeks costs about 22 day steps, and a wait within one day, the
// common case, costs a table lookup and a few additions (about 60 ns; see
// bench_test.go).
//
// A Calendar is immutable after New and safe for concurrent use.
package calendar
