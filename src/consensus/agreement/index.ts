// Inter-annotator agreement: pure functions over units × coders matrices (null = not rated).
export { answersToMatrix, categoriesOf, unitCounts, type Coefficient, type Rating, type RatingMatrix } from './ratings.ts';
export { percentAgreement } from './percent.ts';
export { cohenKappa, cohenKappaTable, contingencyTable, agreementWeights, type KappaWeights } from './cohen.ts';
export { fleissKappa, fleissKappaCounts, pairAgreement } from './fleiss.ts';
export { krippendorffAlpha, type AlphaMetric, type AlphaResult } from './krippendorff.ts';
export { gwetAC1, gwetAC1Table } from './gwet.ts';
export { perLabelKappa } from './per-label.ts';
export { pairwiseKappa, type PairwiseMatrix } from './pairwise.ts';
