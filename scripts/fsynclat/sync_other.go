//go:build !linux

package main

import "os"

// fdatasync flushes f (a full fsync where fdatasync does not exist).
func fdatasync(f *os.File) error { return f.Sync() }
