// Package cluster runs routing across several `switchboard serve` nodes on
// one shared store: exactly one node (the leader) runs the routing engine,
// the others hand it every routing call, and when the leader goes another
// node takes over from the durable state. It wraps backend/routing's
// Engine without changing it: the leader's engine writes through a routing
// store fenced to its term, so a deposed leader's late write is refused.
package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"switchboard/backend"
	"switchboard/backend/routing"
)

// Coordinator is what the nodes share to elect one routing leader and hand
// it commands; backend/postgres implements it.
type Coordinator interface {
	// Campaign blocks until this node leads (or ctx ends) and returns the
	// term: its epoch, a channel closed when leadership is lost, and
	// resign, which gives it up.
	Campaign(ctx context.Context) (epoch int64, lost <-chan struct{}, resign func(), err error)
	// RoutingStore is the routing store of a term: its writes fail once
	// another node took over.
	RoutingStore(epoch int64) backend.RoutingStore
	// CallRouting hands a command (method and JSON arguments) to the
	// leader and returns its JSON result or its error (code and sentence).
	CallRouting(ctx context.Context, method string, args []byte) ([]byte, error)
	// ServeRouting runs the commands handed to the leader of term epoch
	// with handle until ctx ends.
	ServeRouting(ctx context.Context, epoch int64, handle func(ctx context.Context, method string, args []byte) ([]byte, error)) error
}

// CallTimeout bounds how long a call waits for the leader (during a
// takeover, the few seconds until the next leader serves).
const CallTimeout = 30 * time.Second

// Router is the routing engine of a node that is one of several. Its
// methods are those of routing.Engine: they run on the local engine while
// this node leads, and on the leader's otherwise.
type Router struct {
	coord Coordinator
	opts  routing.Options
	log   *slog.Logger

	mu     sync.Mutex
	local  *routing.Engine
	epoch  int64
	term   context.Context
	onLead func(ctx context.Context)
	tasks  sync.WaitGroup // onLead runs of the current term

	cancel context.CancelFunc
	done   chan struct{}
}

var (
	_ Routing = (*Router)(nil)
	_ Routing = (*routing.Engine)(nil)
)

// New returns a router on coord whose engine, while this node leads, has
// opts. Start runs it.
func New(coord Coordinator, opts routing.Options) *Router {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Router{coord: coord, opts: opts, log: opts.Logger.With("component", "cluster")}
}

// Start campaigns for the leadership in the background, leading whenever
// this node wins, until Close.
func (r *Router) Start(ctx context.Context) {
	ctx, r.cancel = context.WithCancel(ctx)
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		r.run(ctx)
	}()
}

// Close stops leading (handing routing to another node at once) and
// campaigning.
func (r *Router) Close() error {
	if r.cancel != nil {
		r.cancel()
		<-r.done
	}
	return nil
}

// SetOnLead sets what this node runs while it leads (the inbound
// dispatcher, taking over the work of nodes that are gone), with a context
// that ends with the term; it is started now if the node already leads.
func (r *Router) SetOnLead(f func(ctx context.Context)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.onLead = f
	if r.local != nil {
		r.startOnLead()
	}
}

// startOnLead runs onLead for the current term; r.mu is held.
func (r *Router) startOnLead() {
	f, ctx := r.onLead, r.term
	r.tasks.Add(1)
	go func() {
		defer r.tasks.Done()
		f(ctx)
	}()
}

// Leading reports whether this node leads routing now, and its term.
func (r *Router) Leading() (bool, int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.local != nil, r.epoch
}

func (r *Router) leader() *routing.Engine {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.local
}

func (r *Router) run(ctx context.Context) {
	wait := 100 * time.Millisecond
	for ctx.Err() == nil {
		epoch, lost, resign, err := r.coord.Campaign(ctx)
		if err != nil {
			if ctx.Err() == nil {
				r.log.Error("routing leadership: campaign failed; trying again", "error", err, "wait", wait)
				select {
				case <-ctx.Done():
				case <-time.After(wait):
				}
				wait = min(2*wait, 5*time.Second)
			}
			continue
		}
		wait = 100 * time.Millisecond
		r.lead(ctx, epoch, lost)
		resign()
	}
}

// lead runs the routing engine for one term, until the leadership is lost
// or the router closes.
func (r *Router) lead(ctx context.Context, epoch int64, lost <-chan struct{}) {
	began := time.Now()
	term, cancel := context.WithCancel(ctx)
	defer cancel()
	e := routing.New(r.coord.RoutingStore(epoch), r.opts)
	if err := e.Start(term); err != nil {
		r.log.Error("routing leadership: the engine did not start; giving the leadership up", "term", epoch, "error", err)
		return
	}
	r.mu.Lock()
	r.local, r.epoch, r.term = e, epoch, term
	if r.onLead != nil {
		r.startOnLead()
	}
	r.mu.Unlock()
	r.log.Info("routing leadership: this node leads", "term", epoch, "took", time.Since(began).Round(time.Millisecond))
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := r.coord.ServeRouting(term, epoch, r.handler(e)); err != nil {
			r.log.Error("routing commands", "error", err)
		}
	}()
	select {
	case <-lost:
		r.log.Warn("routing leadership lost", "term", epoch)
	case <-ctx.Done():
	}
	r.mu.Lock()
	r.local = nil
	r.mu.Unlock()
	cancel()
	<-served
	r.tasks.Wait()
	e.Close()
}

// handler runs the commands other nodes hand this leader on its engine:
// the method of Routing named by the command, with its JSON arguments.
func (r *Router) handler(e *routing.Engine) func(ctx context.Context, method string, args []byte) ([]byte, error) {
	return func(ctx context.Context, method string, args []byte) ([]byte, error) {
		m, ok := reflect.TypeOf((*Routing)(nil)).Elem().MethodByName(method)
		if !ok {
			return nil, backend.Errorf(backend.EInvalid, "There is no routing method %q.", method)
		}
		var raw []json.RawMessage
		if err := json.Unmarshal(args, &raw); err != nil || len(raw) != m.Type.NumIn()-1 {
			return nil, backend.Errorf(backend.EInvalid, "Routing method %s takes %d arguments.", method, m.Type.NumIn()-1)
		}
		in := []reflect.Value{reflect.ValueOf(ctx)}
		for i, a := range raw {
			v := reflect.New(m.Type.In(i + 1))
			if err := json.Unmarshal(a, v.Interface()); err != nil {
				return nil, backend.Errorf(backend.EInvalid, "Routing method %s: argument %d: %v", method, i+1, err)
			}
			in = append(in, v.Elem())
		}
		out := reflect.ValueOf(e).MethodByName(method).Call(in)
		if err, _ := out[len(out)-1].Interface().(error); err != nil {
			return nil, err
		}
		if len(out) == 1 {
			return []byte("null"), nil
		}
		return json.Marshal(out[0].Interface())
	}
}

// call runs a routing method on the local engine while this node leads,
// else hands it to the leader with its arguments.
func call[T any](ctx context.Context, r *Router, method string, local func(*routing.Engine) (T, error), args ...any) (T, error) {
	for e := r.leader(); e != nil; e = r.leader() {
		v, err := local(e)
		if backend.ErrorCode(err) != backend.EUnavailable || r.leader() == e {
			return v, err
		}
		// The term ended under the call: ask the next leader.
	}
	var v T
	raw, err := json.Marshal(args)
	if err != nil {
		return v, fmt.Errorf("routing %s: %w", method, err)
	}
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	out, err := r.coord.CallRouting(ctx, method, raw)
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return v, fmt.Errorf("routing %s: %w", method, err)
	}
	return v, nil
}

// done adapts a method without a result to call.
func done(err error) (struct{}, error) { return struct{}{}, err }
