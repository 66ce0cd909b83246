package serve

import (
	"syscall"
	"time"
)

// preciseSleep sleeps d on an hrtimer. The Go runtime's timers wake an
// idle process at millisecond granularity (its epoll wait takes
// milliseconds), so a generator pacing 5,000 requests/s with time.Sleep
// releases them in bursts of five; nanosleep keeps the schedule to tens
// of microseconds. It blocks the thread, not the runtime (a syscall).
func preciseSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	_ = syscall.Nanosleep(&ts, nil)
}
