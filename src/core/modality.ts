export const MODALITIES = ['text', 'image', 'audio', 'tabular'] as const;
export type Modality = (typeof MODALITIES)[number];
