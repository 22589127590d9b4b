//go:build !cgo

package audio

import "errors"

var errNoCgo = errors.New("audio: sound devices need a build with cgo")

// Device is a duplex sound device; without cgo none can be opened.
type Device struct{}

// List reports that devices are not available.
func List(null bool) (Devices, error) { return Devices{}, errNoCgo }

// Open reports that devices are not available.
func Open(o Options) (*Device, error) { return nil, errNoCgo }

// Read implements softphone.Source.
func (d *Device) Read(frame []int16) error { clear(frame); return nil }

// Write implements softphone.Sink.
func (d *Device) Write([]int16) error { return nil }

// Close does nothing.
func (d *Device) Close() error { return nil }
