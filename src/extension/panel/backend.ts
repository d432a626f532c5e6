// What the lab panel needs from the rest of the extension, as plain interfaces (no `vscode`): the worker
// client implements PanelBackend with a thin adapter, the VS Code glue implements PanelEditor, and tests
// use fakes. Shapes follow the core API (TrainEvent, generate, attentionMaps) so the adapters stay thin.
import type { Candidate, DataPreview, GenerateRequest, ModelInfo, ToPanel, TrainEval, TrainStep, TrainTest } from '../../protocol/panel';

export interface Subscription {
  dispose(): void;
}

/** Training progress as the panel draws it: steps, validation passes, a test result and run state changes. */
export type PanelTrainingEvent =
  | ({ type: 'step' } & TrainStep)
  | ({ type: 'eval' } & TrainEval)
  | ({ type: 'test' } & TrainTest)
  | ({ type: 'state' } & ToPanel['train/didChangeState']);

/** Attention weights as core's attentionMaps returns them: layers[layer][head] is a T×T row-major matrix. */
export interface AttentionMaps {
  tokens: string[];
  layers: ArrayLike<number>[][];
}

export interface GeneratedPiece {
  id: number;
  text: string;
  candidates?: Candidate[];
}

export type GenerateSettings = Omit<GenerateRequest, 'requestId' | 'promptStyle' | 'input'>;

export interface DataQuery {
  maxLength: number;
  stride: number;
  offset: number;
  count: number;
}

export interface PanelBackend {
  /** Live training events of whichever run is going. */
  onTrainingEvent(listener: (e: PanelTrainingEvent) => void): Subscription;
  /** The loaded model changed (created, loaded, trained into a new checkpoint) or was unloaded. */
  onModelChanged(listener: (info: ModelInfo | null) => void): Subscription;
  startTraining(): Promise<void>;
  stopTraining(): Promise<void>;
  /** Continues the last run from its latest checkpoint. */
  resumeTraining(): Promise<void>;
  attention(text: string, signal: AbortSignal): Promise<AttentionMaps>;
  /** Yields tokens as they are sampled; stops cleanly (returns or throws a cancellation) when `signal` fires. */
  generate(settings: GenerateSettings, signal: AbortSignal): AsyncIterable<GeneratedPiece>;
  modelInfo(): Promise<ModelInfo | null>;
  /** Sliding windows over the training data for a max length and stride. */
  dataPreview(query: DataQuery, signal: AbortSignal): Promise<Omit<DataPreview, 'requestId'>>;
}

/** The editor actions the panel asks for. */
export interface PanelEditor {
  /** The selected text of the last text editor used, or '' when nothing is selected. */
  selection(): string;
  /** Inserts at the selection of the last text editor used; throws when there is none. */
  insert(text: string): Promise<void>;
  copy(text: string): Promise<void>;
}
