// Package readme holds the tests that keep README.md's code true: every ```go
// block in it that is a whole program compiles as written, and the quick starts
// must be whole programs, so they cannot rot. (Their runnable twins on the
// emulator are the packages' Example functions, which every public package has.)
package readme
