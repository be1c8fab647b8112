// Shapes that are not digits, seen in the 28x28 frame: a line, a box, a solid block; as
// runtime/pictures/shapes.py, rule for rule and word for word. When the localiser takes a ruled line, a
// table's frame or a strip of blank paper for the digit, the model reconstructs it cleanly, so the PSNR
// does not warn; its shape does. None of the 60,000 MNIST training digits is called one of these.

import { rint } from './numbers.js';
import { IMAGE_SIDE } from './spec.js';

const INK = 0.5; // half-grey: a pixel of the stroke
const LINE_HEIGHT = 6; // a digit's box (20 px long) is at least 8 px tall in MNIST: at most this is a line
const SIDE = 0.12; // a side of the box: this share of its rows (columns) ...
const FULL_SIDE = 0.9; // ... with ink along this share of the box's width (height)
const HOLLOW = 0.6; // a frame fills at most this share of its box ...
const EMPTY = 0.35; // ... and of the middle half of it
const SOLID = 0.85; // a block fills at least this share of its box ...
const BLOCK_WIDTH = 8; // ... and is at least this wide (a 1 is a narrow solid bar)

export const LINE = 'a straight line, not a digit (a ruled line?)';
export const BLOCK = 'a solid block, not a digit (a strip of paper or a shadow?)';
export const FRAME = "a box, not a digit (a frame or a table's cell?)";

/** Framed digits as the model takes them (floats in [0, 1], count * 784) -> per digit, what it looks like
 * if it is not a digit, in words for the warning; null for a digit-like shape. */
export function concerns(x, count) {
  const size = IMAGE_SIDE * IMAGE_SIDE;
  return Array.from({ length: count }, (_, n) => concern(x.subarray(n * size, (n + 1) * size)));
}

function concern(digit) {
  const ink = (row, column) => digit[row * IMAGE_SIDE + column] > INK;
  const box = boxOf(ink);
  if (box === null) return null;
  const [top, bottom, left, right] = box;
  const height = bottom - top;
  const width = right - left;
  let inked = 0;
  for (let row = top; row < bottom; row++) for (let column = left; column < right; column++) inked += ink(row, column);
  const fill = inked / Math.max(height * width, 1);
  if (height <= LINE_HEIGHT && width > LINE_HEIGHT) return LINE;
  if (fill >= SOLID && width >= BLOCK_WIDTH) return BLOCK;
  if (fill <= HOLLOW && Math.min(height, width) >= 10 && flatTopOrBottom(ink, box) && fullSides(ink, box) >= 3
      && insideFill(ink, box) <= EMPTY) return FRAME;
  return null;
}

/** [top, bottom, left, right) of the ink, or null without ink. */
function boxOf(ink) {
  let top = IMAGE_SIDE, bottom = 0, left = IMAGE_SIDE, right = 0;
  for (let row = 0; row < IMAGE_SIDE; row++) {
    for (let column = 0; column < IMAGE_SIDE; column++) {
      if (!ink(row, column)) continue;
      top = Math.min(top, row); bottom = Math.max(bottom, row + 1);
      left = Math.min(left, column); right = Math.max(right, column + 1);
    }
  }
  return bottom === 0 ? null : [top, bottom, left, right];
}

function countIn(ink, rows, columns) {
  let count = 0;
  for (let row = rows[0]; row < rows[1]; row++) for (let column = columns[0]; column < columns[1]; column++) count += ink(row, column);
  return count;
}

/** The box's first or last row has ink along half its width. */
function flatTopOrBottom(ink, [top, bottom, left, right]) {
  const width = Math.max(right - left, 1);
  const across = [0, IMAGE_SIDE];
  return Math.max(countIn(ink, [top, top + 1], across), countIn(ink, [bottom - 1, bottom], across)) >= 0.5 * width;
}

/** How many of the box's four sides are straight full lines of ink. */
function fullSides(ink, [top, bottom, left, right]) {
  const deep = Math.max(1, rint(SIDE * (bottom - top)));
  const wide = Math.max(1, rint(SIDE * (right - left)));
  const alongColumns = (rows) => {
    let covered = 0;
    for (let column = left; column < right; column++) covered += countIn(ink, rows, [column, column + 1]) > 0;
    return covered >= FULL_SIDE * (right - left);
  };
  const alongRows = (columns) => {
    let covered = 0;
    for (let row = top; row < bottom; row++) covered += countIn(ink, [row, row + 1], columns) > 0;
    return covered >= FULL_SIDE * (bottom - top);
  };
  return alongColumns([top, top + deep]) + alongColumns([bottom - deep, bottom])
    + alongRows([left, left + wide]) + alongRows([right - wide, right]);
}

/** The share of ink in the middle half of the box (a quarter in from each side). */
function insideFill(ink, [top, bottom, left, right]) {
  const quarterRows = Math.floor((bottom - top) / 4);
  const quarterColumns = Math.floor((right - left) / 4);
  const rows = [top + quarterRows, bottom - quarterRows];
  const columns = [left + quarterColumns, right - quarterColumns];
  const cells = Math.max(rows[1] - rows[0], 0) * Math.max(columns[1] - columns[0], 0);
  return countIn(ink, rows, columns) / Math.max(cells, 1);
}
