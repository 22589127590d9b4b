package webchat

import "context"

// DeleteOrphanUploads deletes the uploads no message carries that are older
// than Options.OrphanUploadAge, and returns how many. The sweeper Start runs
// calls it every Options.UploadSweep on the server's clock.
func (s *Server) DeleteOrphanUploads(ctx context.Context) (int, error) {
	return s.store.DeleteOrphanWebchatUploads(ctx, s.opts.Now().Add(-s.opts.OrphanUploadAge))
}

// scheduleSweep sets the next sweep of unattached uploads, unless closed.
func (s *Server) scheduleSweep(ctx context.Context) {
	s.sweepMu.Lock()
	defer s.sweepMu.Unlock()
	if s.sweepClosed {
		return
	}
	s.sweepStop = s.opts.Clock.AfterFunc(s.opts.UploadSweep, func() {
		s.sweepMu.Lock()
		if s.sweepClosed || ctx.Err() != nil {
			s.sweepMu.Unlock()
			return
		}
		s.sweeping.Add(1)
		s.sweepMu.Unlock()
		defer s.sweeping.Done()
		if n, err := s.DeleteOrphanUploads(ctx); err != nil {
			s.log.Error("delete unattached uploads", "error", err)
		} else if n > 0 {
			s.log.Info("deleted uploads no message carries", "count", n)
		}
		s.scheduleSweep(ctx)
	})
}

// stopSweeps stops the sweeper and waits for a sweep under way.
func (s *Server) stopSweeps() {
	s.sweepMu.Lock()
	s.sweepClosed = true
	if s.sweepStop != nil {
		s.sweepStop()
	}
	s.sweepMu.Unlock()
	s.sweeping.Wait()
}
