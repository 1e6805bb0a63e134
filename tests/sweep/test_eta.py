"""The live estimate (`sweep.agent.eta`) on a fake clock: refitted after every finished run."""

from __future__ import annotations

import pytest

from timing_trainer.sweep.agent.eta import Eta, fit_work


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_pilot_estimate_doubles_when_the_first_run_takes_twice_its_prediction():
    clock = FakeClock()
    eta = Eta(range(4), pilot=dict.fromkeys(range(4), 10.0), clock=clock)
    assert eta.remaining().seconds == pytest.approx(40.0)
    assert eta.remaining().basis == "pilot"
    assert eta.start(0).seconds == 10.0
    clock.now = 5.0  # the running run's elapsed time counts against its prediction
    assert eta.remaining().seconds == pytest.approx(35.0)
    clock.now = 20.0
    outcome = eta.finish(0)  # wall from the clock: 20 s against 10 s predicted
    assert outcome.wall == 20.0 and outcome.error == pytest.approx(1.0)
    remaining = eta.remaining()
    assert remaining.seconds == pytest.approx(60.0)  # 3 runs x 10 s x 2: doubled
    assert remaining.runs_left == 3 and "median of 1 finished" in remaining.basis
    assert remaining.text() == "eta: 1m00s remaining (3 runs left)"
    assert eta.start(1, at=20.0).seconds == pytest.approx(20.0)  # judged by its refit prediction
    clock.now = 30.0
    assert eta.remaining().seconds == pytest.approx(10.0 + 40.0)


def test_the_pilot_ratio_is_the_median_so_one_stalled_run_moves_nothing():
    eta = Eta(range(5), pilot=dict.fromkeys(range(5), 10.0), clock=FakeClock())
    for index, wall in enumerate((12.0, 12.0, 100.0)):
        eta.start(index)
        eta.finish(index, wall)
    assert eta.predict(3).seconds == pytest.approx(12.0)
    assert eta.errors() == pytest.approx([0.2, 0.0, 100.0 / 12.0 - 1.0])


def test_without_a_pilot_unknown_then_the_mean_then_the_work_fit():
    works = {0: 1.0, 1: 3.0, 2: 5.0, 3: 10.0}
    eta = Eta(range(4), work=works, clock=FakeClock())
    first = eta.remaining()
    assert first.seconds is None
    assert first.text() == "eta: unknown (no pilot, no finished run yet) (4 runs left)"
    assert eta.start(0).seconds is None
    eta.finish(0, 4.0)
    assert eta.predict(2).seconds == 4.0 and eta.predict(2).basis == "mean of 1 finished run"
    eta.start(1)
    outcome = eta.finish(1, 8.0)  # predicted 4 s (the mean): +100 %
    assert outcome.predicted == 4.0 and outcome.error == pytest.approx(1.0)
    # wall = 2 + 2 x work through (1, 4) and (3, 8)
    assert eta.predict(2).seconds == pytest.approx(12.0)
    assert eta.predict(3).seconds == pytest.approx(22.0)
    assert eta.remaining().seconds == pytest.approx(34.0)
    assert "work fit on 2 finished runs" in eta.predict(3).basis


def test_the_fit_refuses_what_the_points_cannot_say():
    assert fit_work([(1.0, 5.0)]) is None  # one point: the mean instead
    assert fit_work([(2.0, 5.0), (2.0, 7.0)]) is None  # equal work: nothing to tell apart
    assert fit_work([(1.0, 9.0), (3.0, 5.0)]) is None  # more work took less: noise, the mean
    fixed, rate = fit_work([(1.0, 1.0), (2.0, 3.0)])  # fixed -1 s cannot be: through zero
    assert fixed == 0.0 and rate == pytest.approx(7.0 / 5.0)
    assert fit_work([(1.0, 3.0), (2.0, 4.0), (3.0, 5.0)]) == pytest.approx((2.0, 1.0))


def test_a_run_of_unknown_work_is_priced_at_the_mean():
    eta = Eta(range(4), work={0: 1.0, 1: 2.0, 2: 3.0, 3: None}, clock=FakeClock())
    for index, wall in ((0, 3.0), (1, 5.0)):
        eta.start(index)
        eta.finish(index, wall)
    assert eta.predict(2).seconds == pytest.approx(7.0)
    assert eta.predict(3).seconds == pytest.approx(4.0)
    assert eta.predict(3).basis == "mean of 2 finished runs"


def test_several_workers_share_the_queue_in_its_order():
    eta = Eta(range(5), pilot=dict.fromkeys(range(5), 10.0), workers=2, clock=FakeClock())
    assert eta.remaining().seconds == pytest.approx(30.0)  # 10+10+10 on one, 10+10 on the other
    assert eta.remaining().text().endswith("(5 runs left on 2 workers)")


def test_the_interval_comes_with_three_finished_runs():
    eta = Eta(range(6), pilot=dict.fromkeys(range(6), 10.0), clock=FakeClock())
    for index, wall in ((0, 10.0), (1, 12.0)):
        eta.start(index)
        eta.finish(index, wall)
    assert eta.remaining().low is None
    assert "no interval before 3 runs have finished" in eta.remaining().note
    eta.start(2)
    eta.finish(2, 15.0)
    remaining = eta.remaining()  # 3 runs at 10 x median 1.2 = 36 s
    assert remaining.seconds == pytest.approx(36.0)
    assert remaining.low < remaining.seconds < remaining.high
    # leave-one-out: the 15 s run against the others' median (1.1): the high end
    assert remaining.high == pytest.approx(36.0 * 15.0 / 11.0)
    assert remaining.low == pytest.approx(36.0 * 10.0 / 13.5)


def test_failed_runs_leave_the_queue_and_teach_nothing():
    eta = Eta(range(3), pilot=dict.fromkeys(range(3), 10.0), clock=FakeClock())
    eta.start(0)
    eta.drop(0)
    assert eta.remaining().runs_left == 2 and eta.remaining().seconds == pytest.approx(20.0)
    assert eta.finished == {} and eta.summary() == ""


def test_runs_finished_earlier_and_runs_proposed_later():
    eta = Eta([2, 3], unplanned=2, clock=FakeClock())
    eta.learn(0, 6.0)
    eta.learn(1, 8.0)
    assert eta.remaining().seconds == pytest.approx(4 * 7.0)  # 2 queued, 2 not yet proposed
    eta.add_run(4, work=None)
    assert eta.remaining().runs_left == 4 and eta.unplanned == 1


def test_the_summary_says_how_far_the_runs_were_from_their_predictions():
    eta = Eta(range(4), clock=FakeClock())
    for index, wall in enumerate((10.0, 12.0, 9.0)):
        eta.start(index)
        eta.finish(index, wall)
    # predictions: none, 10 (mean of 10), 11 (mean of 10, 12): errors +20 %, -18 %
    assert eta.summary() == ("predictions: median error 19% (median signed +1%) over 2 "
                             "finished runs; 1 had no prediction")

