// Gradients that free memory as the backward pass goes. TensorFlow.js's own gradients() keeps every tensor an op
// saved for its backward, and the gradient of every intermediate tensor, alive until the whole backward pass
// has run: for GPT-2 124M that is more than a gigabyte on top of the weights, moments and gradients at the peak.
// This walks the same tape in the same order with the same gradient functions, but once a node's backward has
// run it frees what only that node needed: its saved tensors and the gradients of its outputs (as PyTorch's
// autograd frees a node's buffers after using them). Where the backend allows, a second gradient of the same
// tensor is added into the first one's buffer (the tied head's two 154 MB gradients of GPT-2's embedding). And an
// op that no trained variable reaches (a frozen block's) is not kept on the tape at all, nor what it saved. Gradients of gradients (a tape recorded inside another)
// keep TensorFlow.js's own path.
import { tf } from './tf';

/** The parts of a tape node this module reads (TensorFlow.js's TapeNode). */
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: Array<tf.Tensor | null>) => Record<string, () => tf.Tensor>;
}

/** The parts of TensorFlow.js's engine this module uses. */
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  gradients: GradientsFn;
  addTapeNode(...args: unknown[]): void;
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T>(nameOrFn: string | (() => T), fn?: () => T): T;
}

type GradientsFn = (
  f: () => tf.Tensor,
  xs: tf.Tensor[],
  dy?: tf.Tensor | null,
  allowNoGradients?: boolean,
) => { value: tf.Tensor; grads: Array<tf.Tensor | undefined> };

/** The nodes that lie on a path from one of `xs` to `y`, in tape order, each with only the inputs that come from `xs`. */
export function nodesBetween(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const onForward = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      onForward.add(node.id);
      for (const o of node.outputs) fromX.add(o.id);
    }
  }
  const toY = new Set<number>([y.id]);
  const onBackward = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (!node.outputs.some((o) => toY.has(o.id))) continue;
    onBackward.add(node.id);
    for (const t of Object.values(node.inputs)) toY.add(t.id);
  }
  const kept: TapeNode[] = [];
  for (const node of tape) {
    if (!onForward.has(node.id) || !onBackward.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const [name, t] of Object.entries(node.inputs)) if (fromX.has(t.id)) inputs[name] = t;
    kept.push({ ...node, inputs });
  }
  return kept;
}

/**
 * Walks `nodes` backward from `y`'s gradient `dy`, accumulating each input's gradient, and frees a node's saved
 * tensors and its outputs' gradients right after its backward. Returns the gradients of `xs`.
 */
function backward(nodes: TapeNode[], xs: tf.Tensor[], y: tf.Tensor, dy: tf.Tensor, firstId: number): Array<tf.Tensor | undefined> {
  const grads = new Map<number, tf.Tensor>([[y.id, dy]]);
  // How many entries of `grads` hold each tensor: a gradient function may hand back the very tensor it got.
  const holders = new Map<tf.Tensor, number>([[dy, 1]]);
  const hold = (t: tf.Tensor, delta: number): number => {
    const n = (holders.get(t) ?? 0) + delta;
    if (n > 0) holders.set(t, n);
    else holders.delete(t);
    return n;
  };
  const wanted = new Set(xs.map((x) => x.id));
  // Only tensors made during this backward pass are freed here: never an input, a weight or the caller's dy.
  const release = (t: tf.Tensor): void => {
    if (t.id >= firstId && hold(t, 0) === 0) t.dispose();
  };
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    if (!node.gradient) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
    const inputGradients = node.gradient(node.outputs.map((o) => grads.get(o.id) ?? null));
    for (const [name, x] of Object.entries(node.inputs)) {
      const f = inputGradients[name];
      if (!f) throw new Error(`Cannot backprop through input ${name} of ${node.kernelName}.`);
      const dx = tf.tidy(f);
      if (dx.dtype !== 'float32') {
        throw new Error(`Error in gradient for op ${node.kernelName}: the gradient of input ${name} must be float32, not ${dx.dtype}.`);
      }
      if (!tf.util.arraysEqual(dx.shape, x.shape)) {
        throw new Error(`Error in gradient for op ${node.kernelName}: the gradient of input ${name} has shape [${dx.shape}], the input [${x.shape}].`);
      }
      const before = grads.get(x.id);
      if (!before) {
        grads.set(x.id, dx);
        hold(dx, 1);
      } else if (before.id >= firstId && before !== dx && holders.get(before) === 1 && addInPlace(before, dx)) {
        release(dx); // accumulated into `before`'s own buffer: no third buffer of this size
      } else {
        const sum = tf.add(before, dx);
        grads.set(x.id, sum);
        hold(sum, 1);
        hold(before, -1);
        release(before);
        release(dx);
      }
    }
    // Nothing later in the walk reads this node's outputs' gradients or its saved tensors.
    for (const o of node.outputs) {
      const g = grads.get(o.id);
      if (!g || wanted.has(o.id)) continue;
      grads.delete(o.id);
      hold(g, -1);
      release(g);
    }
    for (const t of node.saved ?? []) if (!holders.has(t)) t.dispose();
  }
  return xs.map((x) => grads.get(x.id));
}

/** before += dx in the active backend's memory, when the backend offers it (native) and may for this buffer. */
function addInPlace(before: tf.Tensor, dx: tf.Tensor): boolean {
  const backend = tf.backend() as { addInto?: (target: tf.TensorInfo, source: tf.TensorInfo) => boolean };
  return backend.addInto?.(before, dx) ?? false;
}

let original: GradientsFn | undefined;
let originalAddTapeNode: ((...args: unknown[]) => void) | undefined;

/**
 * While the forward pass of a top-level gradient runs: the ids of the tensors computed from one of its xs.
 * An op none of whose inputs is among them lies on no path from xs, so its node is dropped from the tape as
 * it is recorded and the tensors it saved are freed at once: a frozen block keeps no activations.
 */
let fromXs: Set<number> | undefined;

function recordOnlyFromXs(engine: EngineInternals, add: (...args: unknown[]) => void, args: unknown[]): void {
  add(...args);
  const tape = engine.state.activeTape;
  // Only the tape of our own top-level gradient; a gradient taken inside it keeps every node of its own.
  if (!fromXs || engine.state.gradientDepth !== 1 || !tape || tape.length === 0) return;
  const node = tape[tape.length - 1];
  if (Object.values(node.inputs).some((t) => fromXs!.has(t.id))) {
    for (const o of node.outputs) fromXs.add(o.id);
    return;
  }
  tape.pop();
  for (const t of node.saved ?? []) t.dispose();
}

/** Makes tf.grads, tf.variableGrads and the optimizers use the freeing backward pass (once; idempotent). */
export function installFreeingGradients(): void {
  const engine = tf.engine() as unknown as EngineInternals;
  if (original) return;
  const tfGradients = engine.gradients.bind(engine);
  original = tfGradients;
  const add = engine.addTapeNode.bind(engine);
  originalAddTapeNode = add;
  engine.addTapeNode = (...args: unknown[]) => recordOnlyFromXs(engine, add, args);
  engine.gradients = (f, xs, dy, allowNoGradients = false) => {
    // A gradient taken while another tape records (gradients of gradients) keeps TensorFlow.js's path.
    if (engine.state.gradientDepth > 0) return tfGradients(f, xs, dy, allowNoGradients);
    tf.util.assert(xs.length > 0, () => 'gradients() received an empty list of xs.');
    if (dy != null && dy.dtype !== 'float32') throw new Error(`dy must have 'float32' dtype, but has '${dy.dtype}'`);
    fromXs = new Set(xs.map((x) => x.id));
    let y: tf.Tensor;
    try {
      y = engine.scopedRun(() => engine.startTape(), () => engine.endTape(), () => engine.tidy('forward', f));
    } finally {
      fromXs = undefined;
    }
    tf.util.assert(y instanceof tf.Tensor, () => 'The result y returned by f() must be a tensor.');
    const tape = engine.state.activeTape ?? [];
    const nodes = nodesBetween(tape, xs, y);
    if (!allowNoGradients && nodes.length === 0) {
      throw new Error('Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed encloses all operations that lead from x to y.');
    }
    return engine.tidy('backward', () => {
      const mark = tf.scalar(0);
      const firstId = mark.id;
      mark.dispose();
      const grads = backward(nodes, xs, y, dy ?? tf.ones(y.shape), firstId);
      for (const node of tape) for (const t of node.saved ?? []) t.dispose();
      engine.state.activeTape = null;
      return { value: y, grads };
    });
  };
}

/** Puts TensorFlow.js's own gradients() back (for tests comparing the two). */
export function uninstallFreeingGradients(): void {
  if (!original) return;
  const engine = tf.engine() as unknown as EngineInternals;
  engine.gradients = original;
  if (originalAddTapeNode) engine.addTapeNode = originalAddTapeNode;
  original = undefined;
  originalAddTapeNode = undefined;
}
