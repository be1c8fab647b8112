// The drawing pad: dark ink on white paper, drawn with mouse, pen or finger (pointer events).

import { canvasPoint } from './pictures.js';

const INK = '#111';
const PAPER = '#fff';
const STROKE = 22; // px on the 280 px pad: MNIST's strokes are 2-3 px of 28 once framed into 20x20

export class DrawingPad {
  /** `onChange()` is called as the ink changes: during a stroke, at its end, and on clear. */
  constructor(canvas, onChange) {
    this.canvas = canvas;
    this.context = canvas.getContext('2d', { willReadFrequently: true });
    this.onChange = onChange;
    this.last = null; // the previous point of the stroke being drawn
    this.strokes = 0;
    this.#paper();
    this.#listen();
  }

  clear() {
    this.#paper();
    this.onChange();
  }

  #paper() {
    Object.assign(this.context, { fillStyle: PAPER });
    this.context.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.strokes = 0;
  }

  /** The pad's pixels: { data: RGBA bytes, width, height }, as preprocess takes them. */
  imageData() {
    return this.context.getImageData(0, 0, this.canvas.width, this.canvas.height);
  }

  #listen() {
    const canvas = this.canvas;
    canvas.addEventListener('pointerdown', (event) => {
      canvas.setPointerCapture(event.pointerId);
      this.last = canvasPoint(canvas, event);
      this.#line(this.last, this.last);
      this.strokes += 1;
      this.onChange();
    });
    canvas.addEventListener('pointermove', (event) => {
      if (this.last === null) return;
      for (const step of event.getCoalescedEvents?.() ?? [event]) {
        const point = canvasPoint(canvas, step);
        this.#line(this.last, point);
        this.last = point;
      }
      this.onChange();
    });
    const end = () => { this.last = null; };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  #line([x0, y0], [x1, y1]) {
    Object.assign(this.context, { strokeStyle: INK, lineWidth: STROKE, lineCap: 'round', lineJoin: 'round' });
    this.context.beginPath();
    this.context.moveTo(x0, y0);
    this.context.lineTo(x1, y1);
    this.context.stroke();
  }
}
