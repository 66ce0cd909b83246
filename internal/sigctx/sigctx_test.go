package sigctx

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"
)

func TestSIGTERMCancels(t *testing.T) {
	ctx, stop := Notify(context.Background())
	defer stop()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("SIGTERM did not cancel the context")
	}
	if e := Cause(ctx); e == nil || e.Signal != syscall.SIGTERM {
		t.Fatalf("cause %v", context.Cause(ctx))
	}
	if !errors.Is(context.Cause(ctx), context.Canceled) {
		t.Error("the cause is not a cancellation")
	}
	if c := ExitCode(ctx); c != 143 {
		t.Errorf("exit code %d, want 143", c)
	}
	if got := Explain(ctx, context.Canceled).Error(); got != "interrupted (SIGTERM)" {
		t.Errorf("Explain(canceled) = %q", got)
	}
	wrapped := fmt.Errorf("scoring: %w", context.Canceled)
	if got := Explain(ctx, wrapped).Error(); got != "interrupted (SIGTERM): scoring: context canceled" {
		t.Errorf("Explain(wrapped) = %q", got)
	}
	other := errors.New("bad row")
	if Explain(ctx, other) != other {
		t.Error("Explain changed an unrelated error")
	}
}

func TestStopWithoutSignal(t *testing.T) {
	ctx, stop := Notify(context.Background())
	stop()
	stop() // twice is fine
	if Cause(ctx) != nil || ExitCode(ctx) != 1 {
		t.Errorf("cause %v, exit %d", Cause(ctx), ExitCode(ctx))
	}
}
