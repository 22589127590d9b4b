package staffing_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"switchboard/backend/staffing"
)

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// TestErlangC_CallCentreHelperExample follows Call Centre Helper's "Erlang C
// Formula – Made Simple With an Easy Worked Example"
// (https://www.callcentrehelper.com/erlang-c-formula-example-121281.htm):
// 100 calls per half hour, 180 s average handling time, 80 % answered in
// 20 s. Traffic is 10 Erlangs; with 11 agents a call waits with
// probability 68.21 % and 39 % are answered in time; 13 agents reach
// 79.6 %, so 14 are needed (88.8 %, occupancy 71.43 %, ASA 7.8 s).
func TestErlangC_CallCentreHelperExample(t *testing.T) {
	aht, target := 180*time.Second, 20*time.Second
	a := staffing.Traffic(100.0/1800, aht)
	if !near(a, 10, 1e-9) {
		t.Fatalf("traffic = %v Erlangs, want 10", a)
	}
	if pw := staffing.WaitProbability(11, a); !near(pw, 0.6821, 0.00005) {
		t.Errorf("P(wait) with 11 agents = %.4f, want 0.6821", pw)
	}
	if sl := staffing.ServiceLevel(11, a, aht, target); !near(sl, 0.39, 0.005) {
		t.Errorf("service level with 11 agents = %.4f, want 0.39", sl)
	}
	if sl := staffing.ServiceLevel(13, a, aht, target); !near(sl, 0.796, 0.0005) {
		t.Errorf("service level with 13 agents = %.4f, want 0.796", sl)
	}
	if sl := staffing.ServiceLevel(14, a, aht, target); !near(sl, 0.888, 0.0005) {
		t.Errorf("service level with 14 agents = %.4f, want 0.888", sl)
	}
	if asa := staffing.AverageSpeedOfAnswer(14, a, aht); !near(asa.Seconds(), 7.8, 0.05) {
		t.Errorf("ASA with 14 agents = %v, want 7.8 s", asa)
	}
	n, err := staffing.AgentsNeeded(a, aht, target, 0.80)
	if err != nil || n != 14 {
		t.Fatalf("agents needed = %d, %v; want 14", n, err)
	}
	if occ := a / float64(n); !near(occ, 0.7143, 0.00005) {
		t.Errorf("occupancy = %.4f, want 0.7143", occ)
	}
}

// TestErlangC_PublishedPackageExamples checks the same load (100 calls a
// half hour, 180 s handle time, 20 s target) against the outputs two
// published Erlang C packages print in their documentation, to more
// digits than the worked example rounds to:
//   - the R package ErlangC 0.1.0 on CRAN
//     (https://stat.ethz.ch/CRAN/web/packages/ErlangC/readme/README.html):
//     with 14 agents, wait probability 0.1741319, service level 0.88835,
//     average speed of answer 7.83593701177724 s, occupancy 0.7142857; its
//     search starts at 11 agents with 0.6821182 and 0.3896138, and needs 14
//     for 80 %;
//   - pyworkforce 0.1.0 (https://pypi.org/project/pyworkforce/0.1.0/):
//     raw_positions 14, service_level 0.8883500191794669,
//     waiting_probability 0.1741319335950498.
func TestErlangC_PublishedPackageExamples(t *testing.T) {
	aht, target := 180*time.Second, 20*time.Second
	a := staffing.Traffic(100.0/1800, aht)
	if pw := staffing.WaitProbability(14, a); !near(pw, 0.1741319335950498, 1e-12) {
		t.Errorf("P(wait) with 14 agents = %.16f, want 0.1741319335950498", pw)
	}
	if sl := staffing.ServiceLevel(14, a, aht, target); !near(sl, 0.8883500191794669, 1e-12) {
		t.Errorf("service level with 14 agents = %.16f, want 0.8883500191794669", sl)
	}
	if asa := staffing.AverageSpeedOfAnswer(14, a, aht); !near(asa.Seconds(), 7.83593701177724, 1e-6) {
		t.Errorf("ASA with 14 agents = %.12f s, want 7.83593701177724", asa.Seconds())
	}
	if pw := staffing.WaitProbability(11, a); !near(pw, 0.6821182, 5e-8) {
		t.Errorf("P(wait) with 11 agents = %.8f, want 0.6821182", pw)
	}
	if sl := staffing.ServiceLevel(11, a, aht, target); !near(sl, 0.3896138, 5e-8) {
		t.Errorf("service level with 11 agents = %.8f, want 0.3896138", sl)
	}
	if n, err := staffing.AgentsNeeded(a, aht, target, 0.8); err != nil || n != 14 {
		t.Errorf("agents needed = %d, %v; want 14", n, err)
	}
}

// TestErlangC_MitanExample follows the step-by-step calculation of Mitan's
// "The Erlang-C Formula" (http://www.mitan.co.uk/erlang/elgcmath.htm: 360
// calls per half hour, 4 minute calls, 55 agents, 15 s target): 48
// Erlangs, occupancy 0.873, a call waits with probability 0.239, waits
// 8.2 s on average, and 84.6 % are answered within 15 s.
func TestErlangC_MitanExample(t *testing.T) {
	aht := 4 * time.Minute
	a := staffing.Traffic(360.0/1800, aht)
	if !near(a, 48, 1e-9) || !near(a/55, 0.873, 0.0005) {
		t.Fatalf("traffic = %v, occupancy %v", a, a/55)
	}
	if pw := staffing.WaitProbability(55, a); !near(pw, 0.239, 0.0005) {
		t.Errorf("P(wait) = %.4f, want 0.239", pw)
	}
	if asa := staffing.AverageSpeedOfAnswer(55, a, aht); !near(asa.Seconds(), 8.2, 0.05) {
		t.Errorf("ASA = %v, want 8.2 s", asa)
	}
	if sl := staffing.ServiceLevel(55, a, aht, 15*time.Second); !near(sl, 0.846, 0.0005) {
		t.Errorf("service level = %.4f, want 0.846", sl)
	}
}

// TestErlangC_ExactValue checks a value known in closed form: three
// servers offered two Erlangs wait with probability 4/9 (the basic example
// of Wolfram Language's ErlangC[3, 2]).
func TestErlangC_ExactValue(t *testing.T) {
	if pw := staffing.WaitProbability(3, 2); !near(pw, 4.0/9, 1e-12) {
		t.Fatalf("ErlangC(3, 2) = %v, want 4/9", pw)
	}
}

func TestErlangC_EdgeCases(t *testing.T) {
	if pw := staffing.WaitProbability(5, 5); pw != 1 {
		t.Errorf("P(wait) at full load = %v, want 1", pw)
	}
	if sl := staffing.ServiceLevel(4, 5, time.Minute, time.Second); sl != 0 {
		t.Errorf("service level when overloaded = %v, want 0", sl)
	}
	if n, err := staffing.AgentsNeeded(0, time.Minute, 20*time.Second, 0.8); n != 0 || err != nil {
		t.Errorf("no traffic needs %d, %v", n, err)
	}
	// A large team: the recurrence neither overflows nor loses the answer.
	a := 2000.0
	n, err := staffing.AgentsNeeded(a, 5*time.Minute, 20*time.Second, 0.9)
	if err != nil || n <= 2000 || n > 2100 {
		t.Errorf("agents for 2000 Erlangs = %d, %v", n, err)
	}
	if sl := staffing.ServiceLevel(n, a, 5*time.Minute, 20*time.Second); sl < 0.9 {
		t.Errorf("service level with %d agents = %v", n, sl)
	}
	if sl := staffing.ServiceLevel(n-1, a, 5*time.Minute, 20*time.Second); sl >= 0.9 {
		t.Errorf("one agent fewer still meets the goal: %v", sl)
	}
	if _, err := staffing.AgentsNeeded(staffing.MaxAgents+1, time.Minute, time.Second, 0.8); !errors.Is(err, staffing.ErrOverloaded) {
		t.Errorf("overloaded err = %v", err)
	}
}
