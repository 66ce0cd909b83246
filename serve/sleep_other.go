//go:build !linux

package serve

import "time"

// preciseSleep is time.Sleep where nanosleep is not wired up.
func preciseSleep(d time.Duration) { time.Sleep(d) }
