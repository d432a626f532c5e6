// Entry of the lab panel's webview bundle: builds the five tabs (Training, Attention, Playground, Model,
// Data), routes validated host messages to them, sends their requests to the host, and keeps the whole
// panel state in the webview state so it survives hiding and reloading.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-label/index.js';
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import '@vscode-elements/elements/dist/vscode-textarea/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import 'uplot/dist/uPlot.min.css';
import '../media/panel.css';
import type { AttentionResult, ToPanelMessage } from '../src/protocol/panel';
import { parseToPanel } from '../src/protocol/panel';
import type { AttentionSaved } from './attention';
import { AttentionView } from './attention';
import type { DataSaved } from './dataView';
import { DataView } from './dataView';
import { el } from './dom';
import { Host, newRequestId } from './host';
import { ModelView } from './modelView';
import type { PlaygroundSaved } from './playground';
import { PlaygroundView } from './playground';
import { Runs } from './runs';
import { onThemeChange } from './theme';
import type { TrainingOptions } from './training';
import { TrainingView } from './training';

/** Everything the panel keeps across reloads. Bump `version` when the shape changes. */
interface PanelState {
  version: 1;
  tab: number;
  training: TrainingOptions;
  runs: unknown;
  attention: AttentionSaved;
  playground: PlaygroundSaved;
  data: DataSaved;
}

const host = new Host();
const saved = (host.loadState() ?? {}) as Partial<PanelState>;
const restored = saved.version === 1 ? saved : {};
const changed = () => host.saveState(snapshot);

const runs = new Runs();
runs.restore(restored.runs, (t) => {
  const p = parseToPanel({ type: 'train/didReportTest', body: { ...(t as object), runId: 'saved' } });
  if (!p.ok || p.value.type !== 'train/didReportTest') return undefined;
  const { runId: _runId, ...result } = p.value.body;
  return result;
});
const training = new TrainingView(
  runs,
  {
    logScale: restored.training?.logScale === true,
    xAxis: restored.training?.xAxis === 'tokens' ? 'tokens' : 'step',
  },
  {
    start: () => host.post('train/start', {}),
    stop: () => host.post('train/stop', {}),
    resume: () => host.post('train/resume', {}),
    changed,
  },
);

let attentionRequest = '';
const attention = new AttentionView({
  request: (text) => {
    attentionRequest = newRequestId('attn');
    host.post('attention/request', { requestId: attentionRequest, text });
    changed();
  },
  useSelection: () => host.post('editor/requestSelection', {}),
  changed,
});

const playground = new PlaygroundView({
  generate: (req) => {
    const requestId = newRequestId('gen');
    host.post('generate/start', { requestId, ...req });
    return requestId;
  },
  stop: (requestId) => host.post('generate/stop', { requestId }),
  copy: (text) => host.post('clipboard/copy', { text }),
  insert: (text) => host.post('editor/insert', { text }),
  changed,
});

const model = new ModelView(() => host.post('model/request', {}));

let dataRequest = '';
const data = new DataView((maxLength, stride, offset) => {
  dataRequest = newRequestId('data');
  host.post('data/request', { requestId: dataRequest, maxLength, stride, offset, count: 8 });
  changed();
});

function snapshot(): PanelState {
  return {
    version: 1,
    tab: Number(tabs.getAttribute('selected-index') ?? 0),
    training: training.options,
    runs: runs.save(),
    attention: attention.save(),
    playground: playground.save(),
    data: data.save(),
  };
}

const views: Array<[string, HTMLElement]> = [
  ['Training', training.root],
  ['Attention', attention.root],
  ['Playground', playground.root],
  ['Model', model.root],
  ['Data', data.root],
];
const tabs = el('vscode-tabs', { id: 'tabs', 'selected-index': String(restored.tab ?? 0), panel: true });
for (const [name, root] of views) {
  tabs.append(el('vscode-tab-header', { slot: 'header', 'data-tab': name.toLowerCase() }, name));
  tabs.append(el('vscode-tab-panel', {}, root));
}
tabs.addEventListener('vsc-tabs-select', () => {
  changed();
  training.schedule();
});
const notice = el('div', { id: 'notice', role: 'alert', class: 'notice', hidden: true });
document.getElementById('app')?.append(notice, tabs);

function showNotice(message: string): void {
  notice.textContent = message;
  notice.hidden = false;
}

attention.restore(restored.attention, (r) => {
  const p = parseToPanel({ type: 'attention/didCompute', body: r });
  return p.ok && p.value.type === 'attention/didCompute' ? (p.value.body as AttentionResult) : null;
});
playground.restore(restored.playground);
data.restore(restored.data);
training.draw();

function handle(m: ToPanelMessage): void {
  switch (m.type) {
    case 'train/didReportStep':
      runs.addStep(m.body);
      break;
    case 'train/didReportEval':
      runs.addEval(m.body);
      break;
    case 'train/didReportTest':
      runs.setTest(m.body);
      break;
    case 'train/didReplay':
      for (const s of m.body.steps) runs.mergeStep(s);
      for (const e of m.body.evals) runs.mergeEval(e);
      for (const t of m.body.tests ?? []) runs.setTest(t);
      break;
    case 'train/didChangeState':
      notice.hidden = true;
      training.setState(m.body.runId, m.body.state, m.body.message);
      return;
    case 'attention/didCompute':
      if (m.body.requestId === attentionRequest) attention.show(m.body);
      return;
    case 'generate/didStart':
      playground.started(m.body.requestId, m.body.prompt);
      return;
    case 'generate/didStreamToken':
      playground.addToken(m.body.requestId, m.body);
      return;
    case 'generate/didFinish':
      playground.finish(m.body.requestId, m.body.reason, m.body.message);
      return;
    case 'model/didChange':
      model.show(m.body.info);
      playground.setModelStyle(m.body.info?.promptStyle);
      return;
    case 'data/didPreview':
      if (m.body.requestId === dataRequest) data.show(m.body);
      return;
    case 'editor/didSelect':
      attention.setText(m.body.text);
      return;
    case 'panel/didFail':
      if (m.body.requestId === attentionRequest) attention.fail(m.body.message);
      else if (m.body.requestId === dataRequest) data.fail(m.body.message);
      else if (m.body.requestId) playground.finish(m.body.requestId, 'error', m.body.message);
      else showNotice(m.body.message);
      return;
  }
  // A training point arrived.
  training.schedule();
  changed();
}

host.listen(handle);
onThemeChange(() => {
  training.rebuild();
  attention.render();
});
host.post('ready', {});
