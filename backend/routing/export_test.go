package routing

// CheckInvariants exposes the engine's self-check to the tests.
func (e *Engine) CheckInvariants(full bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.checkInvariants(full)
}

// EnableDebug turns on the per-offer order check.
func EnableDebug(e *Engine) {
	e.mu.Lock()
	e.debug = true
	e.mu.Unlock()
}

// Compile compiles src as the engine would and reports whether it reads
// task attributes.
func Compile(src string) (usesTask bool, err error) {
	p, err := compileExpr("expression", src)
	if err != nil {
		return false, err
	}
	return p.usesTask, nil
}

// Eval compiles src and evaluates it for the given attributes.
func Eval(src string, worker, task map[string]any) (bool, error) {
	p, err := compileExpr("expression", src)
	if err != nil {
		return false, err
	}
	return newEvaluator().run(p, worker, task), nil
}

// WorkerPart returns the worker-only prefilter of src ("" when none).
func WorkerPart(src string) string {
	p, err := compileExpr("expression", src)
	if err != nil || p.pre == nil {
		return ""
	}
	return p.pre.src
}
