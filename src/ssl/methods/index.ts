import { dictOf } from '../../core/dict.ts';
/** Every pretext method, by name. Adding a method = adding one file and one line here. */
import type { PretextMethod } from './method.ts';
import { mlm } from './mlm.ts';
import { simcse } from './simcse.ts';
import { scarf } from './scarf.ts';
import { vime } from './vime.ts';
import { simclr } from './simclr.ts';
import { rotation } from './rotation.ts';
import { maskedSpec } from './masked-spec.ts';
import { audioContrastive } from './audio-contrastive.ts';

export const METHODS: Record<string, PretextMethod> = dictOf([mlm, simcse, simclr, rotation, maskedSpec, audioContrastive, scarf, vime].map((m) => [m.name, m] as const));
