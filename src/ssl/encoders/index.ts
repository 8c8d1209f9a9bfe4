/** The encoder kit of each modality. */
import type { Modality } from '../../core/modality.ts';
import type { ModalityKit } from './backbone.ts';
import { textKit } from './text.ts';
import { tabularKit } from './tabular.ts';
import { imageKit } from './image.ts';
import { audioKit } from './audio.ts';

export const KITS: Record<Modality, ModalityKit> = {
  text: textKit,
  tabular: tabularKit,
  image: imageKit,
  audio: audioKit,
};
