package audio_test

import (
	"testing"
	"time"

	"switchboard/app/softphone"
	"switchboard/app/softphone/audio"
)

var (
	_ softphone.Source = (*audio.Device)(nil)
	_ softphone.Sink   = (*audio.Device)(nil)
)

// The null backend opens, runs its callback and closes: the phone's audio
// path works on machines with no sound card.
func TestNullDevice(t *testing.T) {
	devs, err := audio.List(true)
	if err != nil {
		t.Fatal(err)
	}
	if len(devs.Microphones) == 0 || len(devs.Speakers) == 0 {
		t.Fatalf("devices = %+v", devs)
	}
	d, err := audio.Open(audio.Options{Null: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	frame := make([]int16, softphone.FrameSamples)
	for i := range frame {
		frame[i] = 1000
	}
	for i := 0; i < 10; i++ {
		if err := d.Write(frame); err != nil {
			t.Fatal(err)
		}
		if err := d.Read(frame); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, s := range frame {
		if s != 0 {
			t.Fatalf("the null microphone heard %d", s)
		}
	}
	if _, err := audio.Open(audio.Options{Null: true, Microphone: "no such device"}); err == nil {
		t.Fatal("a missing device was opened")
	}
}
