package sigctx

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Signals are the signals Notify handles.
var Signals = []os.Signal{os.Interrupt, syscall.SIGTERM}

// Error is the cancellation cause of a context canceled by a signal.
type Error struct {
	Signal os.Signal
}

func (e *Error) Error() string { return fmt.Sprintf("interrupted (%s)", name(e.Signal)) }

// Is makes errors.Is(err, context.Canceled) hold, as for any cancellation.
func (e *Error) Is(target error) bool { return target == context.Canceled }

func name(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// Notify returns a context canceled, with an *Error cause, by the first of
// Signals. The handler is then removed, so a second signal ends the process
// at once with the system's default action (the escape hatch of a command
// that does not stop). stop releases the handler.
func Notify(parent context.Context) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, Signals...)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			signal.Stop(ch)
			cancel(&Error{Signal: s})
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		select {
		case <-done:
		default:
			close(done)
		}
		cancel(context.Canceled)
	}
}

// Cause is the *Error that canceled ctx, or nil.
func Cause(ctx context.Context) *Error {
	var e *Error
	if errors.As(context.Cause(ctx), &e) {
		return e
	}
	return nil
}

// ExitCode is the exit status of a command that failed with ctx canceled
// by a signal: 128 + the signal number, as a shell reports a process
// killed by it (130 for SIGINT, 143 for SIGTERM); 1 otherwise.
func ExitCode(ctx context.Context) int {
	if e := Cause(ctx); e != nil {
		if s, ok := e.Signal.(syscall.Signal); ok {
			return 128 + int(s)
		}
	}
	return 1
}

// Explain returns err with the signal named when ctx was canceled by one
// and err is that cancellation ("context canceled" becomes
// "interrupted (SIGTERM)"); other errors are returned as they are.
func Explain(ctx context.Context, err error) error {
	e := Cause(ctx)
	if e == nil || err == nil || !errors.Is(err, context.Canceled) {
		return err
	}
	var already *Error
	switch {
	case errors.As(err, &already):
		return err
	case err.Error() == context.Canceled.Error():
		return e
	}
	return fmt.Errorf("%s: %w", e, err)
}
