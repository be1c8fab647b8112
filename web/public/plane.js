// The VAE's 2-D latent plane: the manifold grid (digits generated over [-extent, extent]^2, as
// grids.manifoldLatents lays them out: first axis left to right, second axis bottom to top) and the
// point picked on it.

import { grids, spec } from 'aeonnx';

import { canvasPoint, paintGray } from './pictures.js';

const SIDE = spec.IMAGE_SIDE;

export class LatentPlane {
  /** `onPick([z0, z1])` is called on click and while dragging. */
  constructor(canvas, n, extent, onPick) {
    Object.assign(this, { canvas, n, extent, onPick, picked: null, grid: null });
    this.step = (2 * extent) / (n - 1); // latent distance between neighbouring digits
    this.#listen();
  }

  /** The grid of n x n digits (uint8, n*28 square), painted with the picked point, if any. */
  show(grid) {
    this.grid = grid;
    paintGray(this.canvas, grid, this.n * SIDE);
    if (this.picked) this.#mark(this.picked);
  }

  /** Canvas pixels -> the latent point there: each tile's centre is the point that tile was generated from. */
  toLatent([x, y]) {
    const column = x / SIDE - 0.5, row = y / SIDE - 0.5;
    return [-this.extent + column * this.step, this.extent - row * this.step];
  }

  /** A latent point -> canvas pixels (inverse of toLatent). */
  toCanvas([z0, z1]) {
    return [((z0 + this.extent) / this.step + 0.5) * SIDE, ((this.extent - z1) / this.step + 0.5) * SIDE];
  }

  #listen() {
    let dragging = false;
    const pick = (event) => {
      this.picked = this.toLatent(canvasPoint(this.canvas, event));
      if (this.grid) this.show(this.grid);
      this.onPick(this.picked);
    };
    this.canvas.addEventListener('pointerdown', (event) => {
      dragging = true;
      this.canvas.setPointerCapture(event.pointerId);
      pick(event);
    });
    this.canvas.addEventListener('pointermove', (event) => dragging && pick(event));
    for (const end of ['pointerup', 'pointercancel']) this.canvas.addEventListener(end, () => { dragging = false; });
  }

  #mark(z) {
    const [x, y] = this.toCanvas(z);
    const context = this.canvas.getContext('2d');
    Object.assign(context, { strokeStyle: '#e4572e', lineWidth: 3 });
    context.beginPath();
    context.arc(x, y, SIDE / 2, 0, 2 * Math.PI);
    context.stroke();
  }
}
