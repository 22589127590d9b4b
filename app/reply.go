package app

import (
	"context"
	"encoding/base64"
	"time"

	"switchboard/app/client"
	"switchboard/backend"
)

// ReplyFile is a file the agent attached in the composer, its bytes in
// base64.
type ReplyFile struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Data string `json:"data"`
}

// SendReplyWith sends a reply with files, or (on email) copied to the
// people the agent chose: cc nil copies everyone on the thread, an empty
// list answers the sender only. Unlike SendReply it needs the engine (the
// files are uploaded first), so offline it says so and nothing is sent;
// the engine checks the files against what the channel carries.
func (a *App) SendReplyWith(conversationID, text string, files []ReplyFile, cc []string) (backend.Message, error) {
	s, err := a.current()
	if err != nil {
		return backend.Message{}, a.toUI(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := client.Reply{Text: text, ClientID: backend.NewID("cl"), Cc: cc}
	for _, f := range files {
		data, err := base64.StdEncoding.DecodeString(f.Data)
		if err != nil {
			return backend.Message{}, a.toUI(backend.Errorf(backend.EInvalid, "The file %s could not be read.", f.Name))
		}
		att, err := s.client.Upload(ctx, conversationID, f.Name, f.Type, data)
		if err != nil {
			return backend.Message{}, a.toUI(err)
		}
		r.Attachments = append(r.Attachments, *att)
	}
	m, err := s.client.SendReplyWith(ctx, conversationID, r)
	if err != nil {
		return backend.Message{}, a.toUI(err)
	}
	s.syncer.Kick()
	return *m, nil
}
