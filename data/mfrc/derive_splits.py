#!/usr/bin/env python3
"""One-off derivation of data/mfrc/splits.tsv (run once; the result is committed, nothing reads the inputs later).

Inputs (from the project's shared data folder, see SOURCE.md): mfrc_label_counts.tsv, splits.yaml (the paper's
text -> id map and split) and paper_ids/main_test_set.txt. A counts row is matched to the paper's split when its
text equals a splits.yaml text after whitespace normalisation (split on any white space, joined with one space).
Output columns: ID (the counts file's row id), split (train | dev | test; rows matching no paper text are train),
paper_id (empty when unmatched), main_test (1 when the paper id is in main_test_set.txt).
"""
import csv, sys, yaml

src = sys.argv[1] if len(sys.argv) > 1 else '/work/shared/data/mfrc'
norm = lambda t: ' '.join(t.split())
splits = yaml.safe_load(open(f'{src}/splits.yaml', encoding='utf-8'))
paper = {}
for split, m in splits.items():
    for text, pid in m.items():
        paper.setdefault(norm(text), (split, str(pid)))
main_test = {l.strip() for l in open(f'{src}/paper_ids/main_test_set.txt') if l.strip()}
csv.field_size_limit(10**9)
rows = list(csv.reader(open(f'{src}/mfrc_label_counts.tsv', encoding='utf-8', newline=''), delimiter='\t',
                       quoting=csv.QUOTE_NONE))
out = csv.writer(open('splits.tsv', 'w', encoding='utf-8', newline=''), delimiter='\t', lineterminator='\n')
out.writerow(['ID', 'split', 'paper_id', 'main_test'])
counts = {}
for r in rows[1:]:
    split, pid = paper.get(norm(r[1]), ('train', ''))
    mt = '1' if pid in main_test else '0'
    counts[(split, pid != '')] = counts.get((split, pid != ''), 0) + 1
    out.writerow([r[0], split, pid, mt])
print(counts, file=sys.stderr)
