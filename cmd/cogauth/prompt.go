package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/term"
)

// prompter asks the user questions on a terminal. It reads a byte at a time so that
// it never buffers past the end of a line: a password read without echo comes
// straight from the terminal's file descriptor, and nothing may sit in a buffer
// in front of it.
//
// Every read gives up when ctx ends (Ctrl-C, SIGTERM): the process's signal
// handler cancels ctx, and the prompt returns errInterrupted at once, with the
// terminal's echo restored, instead of waiting for Enter.
type prompter struct {
	ctx context.Context
	in  io.Reader
	out io.Writer
	tty bool
}

// errInterrupted: the user pressed Ctrl-C (or the process was told to stop) while
// a prompt waited; exit code 130.
var errInterrupted = errors.New("interrupted")

// errNoTerminal is returned when an answer is needed and there is nobody to ask.
var errNoTerminal = errors.New("no terminal to ask on")

func (a *app) prompter(ctx context.Context) *prompter {
	tty := a.isTTY
	if tty == nil {
		tty = isTerminal
	}
	return &prompter{ctx: ctx, in: a.IO.In, out: a.IO.ErrOut, tty: tty(a.IO.In)}
}

// read runs a blocking read of the terminal until it returns or the prompt's
// context ends. A read abandoned on interrupt stays blocked on its goroutine; the
// process is about to exit.
func (p *prompter) read(fn func() (string, error)) (string, error) {
	if p.ctx == nil {
		return fn()
	}
	if p.ctx.Err() != nil {
		return "", errInterrupted
	}
	type answer struct {
		s   string
		err error
	}
	got := make(chan answer, 1)
	go func() {
		s, err := fn()
		got <- answer{s, err}
	}()
	select {
	case a := <-got:
		return a.s, a.err
	case <-p.ctx.Done():
		return "", errInterrupted
	}
}

// need explains how to give an answer without a terminal.
func needFlag(what, flag, envVar string) error {
	msg := fmt.Sprintf("%s needed and no terminal to ask on: use %s", what, flag)
	if envVar != "" {
		msg += " or set " + envVar
	}
	return &usageError{msg}
}

// readLine reads one line from r without reading past it.
func readLine(r io.Reader) (string, error) {
	var b strings.Builder
	var c [1]byte
	for {
		n, err := r.Read(c[:])
		if n == 1 {
			if c[0] == '\n' {
				return strings.TrimRight(b.String(), "\r"), nil
			}
			b.WriteByte(c[0])
			if b.Len() > 64<<10 {
				return "", errors.New("input line too long")
			}
		}
		if err == io.EOF {
			if b.Len() > 0 {
				return strings.TrimRight(b.String(), "\r"), nil
			}
			return "", io.ErrUnexpectedEOF
		}
		if err != nil {
			return "", err
		}
	}
}

// ask prints label and reads a line.
func (p *prompter) ask(label string) (string, error) {
	if !p.tty {
		return "", errNoTerminal
	}
	fmt.Fprint(p.out, label)
	s, err := p.read(func() (string, error) { return readLine(p.in) })
	if errors.Is(err, errInterrupted) {
		fmt.Fprintln(p.out)
	}
	return strings.TrimSpace(s), err
}

// askDefault asks with a default shown in brackets, returned for an empty answer.
func (p *prompter) askDefault(label, def string) (string, error) {
	if def != "" {
		label = fmt.Sprintf("%s [%s]: ", label, def)
	} else {
		label += ": "
	}
	s, err := p.ask(label)
	if err == nil && s == "" {
		s = def
	}
	return s, err
}

// secret reads a line without echo.
func (p *prompter) secret(label string) (string, error) {
	if !p.tty {
		return "", errNoTerminal
	}
	fd, ok := p.in.(interface{ Fd() uintptr })
	if !ok || !term.IsTerminal(int(fd.Fd())) {
		// Tests drive prompts through a pipe that claims to be a terminal.
		fmt.Fprint(p.out, label)
		s, err := p.read(func() (string, error) { return readLine(p.in) })
		fmt.Fprintln(p.out)
		return s, err
	}
	// Echo goes off before the prompt is printed, so a password typed as soon
	// as the prompt shows is never echoed. ReadPassword puts back the state it
	// found, and an interrupt abandons it, so the state from before the prompt
	// is put back here in every case.
	before, err := term.GetState(int(fd.Fd()))
	if err != nil {
		return "", fmt.Errorf("reading from the terminal: %w", err)
	}
	defer func() { _ = term.Restore(int(fd.Fd()), before) }()
	if err := echoOff(int(fd.Fd())); err != nil {
		return "", fmt.Errorf("reading from the terminal: %w", err)
	}
	fmt.Fprint(p.out, label)
	s, err := p.read(func() (string, error) {
		b, err := term.ReadPassword(int(fd.Fd()))
		return string(b), err
	})
	fmt.Fprintln(p.out)
	if err != nil && !errors.Is(err, errInterrupted) {
		return "", fmt.Errorf("reading from the terminal: %w", err)
	}
	return s, err
}

// confirm asks a yes/no question; def is the answer to an empty line.
func (p *prompter) confirm(label string, def bool) (bool, error) {
	hint := " [y/N] "
	if def {
		hint = " [Y/n] "
	}
	s, err := p.ask(label + hint)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(s) {
	case "":
		return def, nil
	case "y", "yes":
		return true, nil
	}
	return false, nil
}
