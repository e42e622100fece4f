"""The quote checker itself: a quote that should fail does fail."""

from quotes import find_in_order, lines_agree, tolerances

PRINTED = [
    "lstm epoch  9  loss 0.019  val 83.7%",
    "lstm epoch 10  loss 0.015  val 82.9%",
    "train 2,308 reviews in 1.52 s",
]


def test_exact_quotes_match_whole_lines_in_order():
    assert find_in_order(["lstm epoch 10  loss 0.015  val 82.9%"], PRINTED, None) is None
    assert find_in_order(["lstm epoch 10 loss 0.015 val 82.9%"], PRINTED, None) is None  # padding
    assert find_in_order(["train 2,308 reviews in 9.99 s"], PRINTED, None) is None  # timing
    assert find_in_order(["lstm epoch 10  loss 0.016  val 82.9%"], PRINTED, None) is not None
    backwards = [PRINTED[1], PRINTED[0]]
    assert find_in_order(backwards, PRINTED, None) is not None


def test_measured_quotes_allow_their_tolerance_and_no_more():
    tolerance = tolerances("text default-run measured pct=3 int=2 rel=0.5")
    assert tolerance == {"pct": 3, "int": 2, "rel": 0.5}
    assert lines_agree("lstm epoch 11 loss 0.025 val 85.0%", PRINTED[0], tolerance)
    assert not lines_agree("lstm epoch 12 loss 0.019 val 83.7%", PRINTED[0], tolerance)  # int
    assert not lines_agree("lstm epoch 9 loss 0.019 val 87.0%", PRINTED[0], tolerance)  # pct
    assert not lines_agree("lstm epoch 9 loss 0.05 val 83.7%", PRINTED[0], tolerance)  # rel
    assert not lines_agree("lstm epoch 9 loss 0.019 test 83.7%", PRINTED[0], tolerance)  # words
    assert tolerances("text default-run") is None


def test_a_number_without_a_tolerance_must_be_exact():
    only_percent = tolerances("output measured pct=1")
    assert lines_agree("train 2,308 reviews in 1 s", PRINTED[2], only_percent)
    assert not lines_agree("train 2,309 reviews in 1 s", PRINTED[2], only_percent)
