package main

import "flag"

// audioFlag adds the desktop's sound-device choice to fset.
func audioFlag(fset *flag.FlagSet) *string {
	return fset.String("audio", "", "sound devices for calls: empty for the system's, null (miniaudio's null backend, no sound card), none")
}
