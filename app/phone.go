package app

import (
	"cmp"
	"context"
	"encoding/base64"
	"strings"
	"time"

	"switchboard/app/softphone"
	"switchboard/app/softphone/audio"
	"switchboard/backend"
)

// Audio choices for Config.Audio.
const (
	// AudioDefault uses the system's sound devices (falling back to
	// miniaudio's null backend on a machine with none).
	AudioDefault = ""
	// AudioNull uses miniaudio's null backend: real device code, silence.
	AudioNull = "null"
	// AudioNone opens no device at all.
	AudioNone = "none"
)

// phoneLink keeps a session's softphone connected to its engine.
type phoneLink struct {
	a    *App
	s    *session
	dev  *audio.Device
	done chan struct{}

	phone chan *softphone.Phone // holds the connected phone (or nothing)
}

// startPhone connects the session's softphone and keeps reconnecting it
// until ctx ends. Call events reach the UI as "call".
func (a *App) startPhone(ctx context.Context, s *session) *phoneLink {
	l := &phoneLink{a: a, s: s, done: make(chan struct{}), phone: make(chan *softphone.Phone, 1)}
	var mic softphone.Source = softphone.Null{}
	var speaker softphone.Sink = softphone.Null{}
	if a.cfg.Audio != AudioNone {
		// The command line's devices win over the settings screen's.
		chosen := a.settings.Get().Audio
		micName, speakerName := cmp.Or(a.cfg.Microphone, chosen.Input), cmp.Or(a.cfg.Speaker, chosen.Output)
		dev, err := audio.Open(audio.Options{Null: a.cfg.Audio == AudioNull, Microphone: micName, Speaker: speakerName})
		if err != nil && a.cfg.Audio == AudioDefault {
			a.log.Warn("no sound device; calls are silent", "err", err)
			dev, err = audio.Open(audio.Options{Null: true})
		}
		if err == nil {
			l.dev, mic, speaker = dev, dev, dev
		} else {
			a.log.Warn("sound device", "err", err)
		}
	}
	go l.run(ctx, mic, speaker)
	return l
}

func (l *phoneLink) run(ctx context.Context, mic softphone.Source, speaker softphone.Sink) {
	defer close(l.done)
	defer func() {
		if l.dev != nil {
			l.dev.Close()
		}
	}()
	backoff := 250 * time.Millisecond
	for ctx.Err() == nil {
		p, err := softphone.Dial(ctx, softphone.Options{URL: l.s.client.BaseURL, Token: l.s.client.Token,
			Mic: mic, Speaker: speaker, Logger: l.a.log, OnEvent: l.onEvent})
		if err != nil {
			if backend.ErrorCode(err) == backend.EUnauthorized {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 10*time.Second)
			continue
		}
		backoff = 250 * time.Millisecond
		l.phone <- p
		select {
		case <-ctx.Done():
		case <-p.Done():
		}
		<-l.phone
		p.Close()
	}
}

// onEvent passes the phone's events to the UI and announces a ringing
// call on the desktop.
func (l *phoneLink) onEvent(ev softphone.Event) {
	l.a.emit("call", ev)
	if ev.Type == "state" && ev.Call.State == backend.CallConnected {
		l.a.log.Info("call connected", "call", ev.Call.ID, "with", ev.Call.From)
	}
	if ev.Type == "incoming" && l.a.cfg.AutoAnswer && !ev.Call.Consult {
		go func() {
			if p, err := l.get(); err == nil {
				if err := p.Answer(ev.Call.ID); err != nil {
					l.a.log.Warn("auto-answer", "call", ev.Call.ID, "err", err)
				}
			}
		}()
	}
	if ev.Type == "incoming" {
		title, body := "Incoming call", ev.Call.From
		if ev.Call.ContactName != "" {
			body = ev.Call.ContactName
		}
		if ev.Call.QueueName != "" {
			body += " · " + ev.Call.QueueName
		}
		if ev.Call.Consult {
			title, body = "Consult call", ev.Call.FromAgent+" asks you about "+ev.Call.From
		}
		if err := l.a.notify(title, body); err != nil {
			l.a.log.Debug("desktop notification failed", "err", err)
		}
	}
}

// get returns the connected phone. Returns EUnavailable when it is not.
func (l *phoneLink) get() (*softphone.Phone, error) {
	select {
	case p := <-l.phone:
		l.phone <- p
		return p, nil
	default:
		return nil, backend.Errorf(backend.EUnavailable, "The phone is not connected to the engine.")
	}
}

// withPhone runs fn on the signed-in user's phone.
func (a *App) withPhone(fn func(p *softphone.Phone) error) error {
	s, err := a.current()
	if err != nil {
		return a.toUI(err)
	}
	p, err := s.phone.get()
	if err != nil {
		return a.toUI(err)
	}
	return a.toUI(fn(p))
}

// Calls lists the phone's calls, ringing or connected.
func (a *App) Calls() ([]softphone.CallInfo, error) {
	var out []softphone.CallInfo
	err := a.withPhone(func(p *softphone.Phone) error { out = p.Calls(); return nil })
	return out, err
}

// AnswerCall answers a ringing call or a colleague's consult.
func (a *App) AnswerCall(id string) error {
	return a.withPhone(func(p *softphone.Phone) error { return p.Answer(id) })
}

// DeclineCall declines a ringing call; the router offers it to someone else.
func (a *App) DeclineCall(id string) error {
	return a.withPhone(func(p *softphone.Phone) error { return p.Decline(id) })
}

// HangupCall ends a call.
func (a *App) HangupCall(id string) error {
	return a.withPhone(func(p *softphone.Phone) error { return p.Hangup(id) })
}

// HoldCall holds (the caller hears music) or resumes a call.
func (a *App) HoldCall(id string, hold bool) error {
	return a.withPhone(func(p *softphone.Phone) error { return p.Hold(id, hold) })
}

// MuteCall mutes or unmutes the microphone on a call.
func (a *App) MuteCall(id string, mute bool) error {
	return a.withPhone(func(p *softphone.Phone) error { return p.Mute(id, mute) })
}

// SendDTMF sends keys from the dial pad to the caller.
func (a *App) SendDTMF(id, digits string) error {
	return a.withPhone(func(p *softphone.Phone) error { return p.SendDTMF(id, digits) })
}

// ConsultCall holds the caller and rings a colleague's worker (warm
// transfer).
func (a *App) ConsultCall(id, workerID string) error {
	return a.withPhone(func(p *softphone.Phone) error { return p.Consult(id, workerID) })
}

// CompleteTransfer hands the caller to the consulted colleague.
func (a *App) CompleteTransfer(id string) error {
	return a.withPhone(func(p *softphone.Phone) error { return p.CompleteTransfer(id) })
}

// ReturnToCaller ends a consult and returns to the caller.
func (a *App) ReturnToCaller(id string) error {
	return a.withPhone(func(p *softphone.Phone) error { return p.ReturnToCaller(id) })
}

// TransferCall hands the call, blind, to a colleague's worker or a queue.
func (a *App) TransferCall(id, workerID, queueID string) error {
	return a.withPhone(func(p *softphone.Phone) error { return p.Transfer(id, workerID, queueID) })
}

// DialNumber calls a phone number through the engine's trunk.
func (a *App) DialNumber(number string) error {
	return a.withPhone(func(p *softphone.Phone) error { return p.Dial(number) })
}

// phoneDevices lists the microphones and speakers the phone can use, for
// the settings screen (Config.AudioDevices replaces it).
func (a *App) phoneDevices() (inputs, outputs []string, err error) {
	d, err := audio.List(a.cfg.Audio == AudioNull)
	return d.Microphones, d.Speakers, err
}

// CallAudio returns a call's recording or voicemail (a timeline
// attachment's /api/calls/… address) as a data URL the page can play; the
// engine checks that the user may hear it.
func (a *App) CallAudio(path string) (string, error) {
	ok := strings.HasPrefix(path, "/api/calls/") && (strings.HasSuffix(path, "/recording") || strings.HasSuffix(path, "/voicemail")) &&
		strings.Count(path, "/") == 4
	if !ok {
		return "", a.toUI(backend.Errorf(backend.EInvalid, "That is not a call recording."))
	}
	s, err := a.current()
	if err != nil {
		return "", a.toUI(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wav []byte
	if err := s.client.Do(ctx, "GET", path, nil, &wav); err != nil {
		return "", a.toUI(err)
	}
	return "data:audio/wav;base64," + base64.StdEncoding.EncodeToString(wav), nil
}
