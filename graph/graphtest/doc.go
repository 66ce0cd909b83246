// Package graphtest has the test helpers shared by op tests: evaluate a
// graph built by a function on the native runtime, and check gradients
// against central finite differences.
package graphtest
