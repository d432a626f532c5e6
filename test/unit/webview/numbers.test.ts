// The panel's learning-rate ticks: small rates in exponent form, never rounded to 0.
import * as assert from 'node:assert/strict';
import { fmtRate } from '../../../webview/numbers';

describe('panel number formats', () => {
  it('writes learning rates as people do: 5e-5, 2.5e-4, 3e-3; 0.02 and up as decimals', () => {
    assert.equal(fmtRate(5e-5), '5e-5');
    assert.equal(fmtRate(0.00025), '2.5e-4');
    assert.equal(fmtRate(0.003), '3e-3');
    assert.equal(fmtRate(1.25e-3), '1.25e-3');
    // A tick a float step away from a round rate reads as the round rate.
    assert.equal(fmtRate(4.9999999e-5), '5e-5');
    assert.equal(fmtRate(0.02), '0.02');
    assert.equal(fmtRate(1.5), '1.5');
    assert.equal(fmtRate(0), '0');
    assert.equal(fmtRate(-5e-5), '-5e-5');
  });
});
