// Generation: streaming text from a GPT model with greedy, temperature, top-k and top-p sampling.
export type { Candidate, GenerateOptions, GeneratedToken, GenerationTokenizer } from './generate';
export { generate, generateText, promptIds } from './generate';
export type { SamplingOptions, UniformSource } from './sampling';
export { argmax, drawFrom, pickToken, samplingDistribution, softmax, topEntries, validateSampling } from './sampling';
export type { TokenBytesSource } from './textStream';
export { TokenTextStream } from './textStream';
