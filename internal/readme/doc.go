// Package readme holds the test that keeps README.md's library quick start a
// program that compiles as written.
package readme
