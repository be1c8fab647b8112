"""The page's structure (runtime/pictures/rulings.py, strokes.py): rulings found at any tilt a scan has and
taken out by their own level, crossing strokes kept whole, a digit's own straight stroke never taken for one;
a punch hole set apart from the digit it is joined to by a faint ruling."""

from __future__ import annotations

import numpy as np
import pytest

from aeonnx.runtime.pictures import rulings, strokes


def ruled_page(degrees: float, level: float = 0.3, size: int = 120, gap: int = 20) -> np.ndarray:
    """Ink strength (0 paper) of horizontal lines `level` strong, 2 px thick with soft edges as a scan's are,
    tilted `degrees`, with noise."""
    rows, columns = np.indices((size, size), dtype=np.float64)
    across = np.mod(rows - columns * np.tan(np.deg2rad(degrees)), gap)
    page = level * np.clip(2.0 - np.abs(across - gap / 2), 0.0, 1.0)
    return page + np.random.default_rng(0).normal(0, 0.01, page.shape)


@pytest.mark.parametrize("degrees", [0.0, 2.3, -4.1, rulings.MAX_TILT, -rulings.MAX_TILT])
def test_lines_at_any_tilt_a_scan_has_are_taken_out_and_a_crossing_stroke_stays(degrees):
    page = ruled_page(degrees)
    stroke = (slice(20, 100), slice(58, 63))  # a pen stroke (a 1) down through four of the lines
    page[stroke] = 1 - (1 - page[stroke]) * (1 - 0.85)  # ink absorbs in layers: pen over ruling
    assert sum(not band.vertical for band in rulings.rulings(page > 0.1)) >= 5
    selected, box, concern, clean = strokes.find_digit_past_rulings(page, 0.4, 0.1)
    assert concern is None and box == (20, 58, 100, 63), "the stroke alone is the digit"
    off_stroke = np.ones(page.shape, bool)
    off_stroke[18:102, 56:65] = False
    assert clean[off_stroke].max() < 0.1, "what is left of the lines is paper"
    assert clean[stroke].min() > 0.75, "the stroke is whole where it crosses a line"


def test_squared_paper_is_taken_out_both_ways():
    page = np.maximum(ruled_page(1.5, level=0.2), ruled_page(1.5, level=0.2).T)
    bands = rulings.rulings(page > 0.08)
    assert {band.vertical for band in bands} == {False, True}
    assert rulings.taken_out(page, bands, strong=0.4, faint=0.1).max() < 0.1


def test_a_bold_digit_on_a_short_line_is_not_cut_through():
    """A bold stroke covering half of a line's length is the digit: the line's level is taken where nothing
    crosses it."""
    page = ruled_page(0.0, level=0.25, size=80, gap=40)
    page[30:50, 20:60] = 0.9  # a blob of a bold stroke lying along the line at row 40
    bands = rulings.rulings(page > 0.1)
    clean = rulings.taken_out(page, bands, strong=0.4, faint=0.1)
    assert clean[30:50, 22:58].min() > 0.5


def test_a_tight_crops_own_stroke_is_no_ruling():
    """A 1 filling its crop is a vertical band too, but it ends at the digit: it is put back and framed."""
    page = np.zeros((120, 40))
    page[5:115, 17:23] = 0.9
    page += np.random.default_rng(1).normal(0, 0.01, page.shape)
    selected, box, concern, _ = strokes.find_digit_past_rulings(page, 0.4, 0.05)
    assert concern is None and box is not None and box[2] - box[0] >= 100


def test_rulings_alone_are_said_to_be_no_digit():
    page = ruled_page(1.0)
    selected, box, concern, _ = strokes.find_digit_past_rulings(page, 0.2, 0.08)
    assert concern in (rulings.RULED_LINES, rulings.FRAME_LINES)


def test_a_punch_hole_joined_to_the_digit_by_a_faint_ruling_is_taken_out():
    y, x = np.indices((100, 160))
    page = np.where(np.hypot(y - 50, x - 40) <= 18, 0.95, 0.0)  # the hole
    page[48:50, :] = np.maximum(page[48:50, :], 0.08)  # a faint ruling through both, weaker than the ink
    page[25:75, 110:116] = 0.85  # a 1
    page[25:31, 100:116] = 0.85
    clean = strokes.without_solids(page, threshold=0.4)
    assert clean[30:70, 20:60].max() < 0.1, "the hole and its rim are paper"
    assert np.array_equal(clean[20:80, 95:120], page[20:80, 95:120]), "the digit is untouched"


def test_a_bold_ring_and_a_blob_alone_are_kept():
    y, x = np.indices((100, 100))
    distance = np.hypot(y - 50, x - 50)
    ring = np.where((distance <= 30) & (distance >= 12), 0.9, 0.0)  # a marker's 0: its middle is paper
    ring[5:9, 5:30] = 0.9  # and a scribble elsewhere
    assert np.array_equal(strokes.without_solids(ring, 0.4), ring)
    blob = np.where(distance <= 25, 0.9, 0.0)  # all there is: framed (and the shape check says what it is)
    assert np.array_equal(strokes.without_solids(blob, 0.4), blob)


def test_lines_put_back_that_stretch_the_digit_are_said():
    """Lines that do not run on past the digit (here a 7's width) are put back as its strokes; when they
    make its box much bigger, they more likely are rulings kept with it, and the warning says so."""
    page = np.zeros((120, 120))
    page[50:58, 20:100] = page[50:90, 90:96] = 0.9  # a 7
    page[44:46, 12:108] = page[96:98, 12:108] = 0.8  # dark lines just above and below, ending a little past it
    page += np.random.default_rng(2).normal(0, 0.01, page.shape)
    selected, box, concern, _ = strokes.find_digit_past_rulings(page, 0.4, 0.1)
    assert box == (44, 12, 98, 108) and concern == strokes.LINES_KEPT
