#!/usr/bin/env python3
"""Writes tests/fixtures/params_anomalies.csv: the NAS-Bench-201 rows whose NATS-Bench
size_in_mb (params_mb_cifar10 in datasets/nb201/nb201_200ep.csv) differs from the op-count
formula nasrank uses (src/encoding/count.c).  Stdlib only.  Run from the repository root:
    python3 tests/reference/gen_params_anomalies.py [path/to/nb201_200ep.csv]
Columns: index,arch_str,table_params,nasrank_params (parameter counts, not millions).
"""
import csv
import os
import sys

CONV3, CONV1 = 243040, 28000          # one edge, all 15 cells, C=16
BASE = {10: 73306, 100: 79156, 120: 80456}


def formula(arch, classes=10):
    ops = [t.split('~')[0] for g in arch.split('+') for t in g.strip('|').split('|')]
    return BASE[classes] + CONV3 * ops.count('nor_conv_3x3') + CONV1 * ops.count('nor_conv_1x1')


def main():
    default = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'shared', 'datasets',
                           'nb201', 'nb201_200ep.csv')
    path = sys.argv[1] if len(sys.argv) > 1 else default
    out = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'params_anomalies.csv')
    rows = []
    with open(path, newline='') as f:
        for r in csv.DictReader(f):
            mine = formula(r['arch_str'])
            table = round(float(r['params_mb_cifar10']) * 1e6)
            for col, k in (('params_mb_cifar100', 100), ('params_mb_imagenet16', 120)):
                # the anomaly is the same conv in all three datasets
                assert round(float(r[col]) * 1e6) - formula(r['arch_str'], k) == table - mine
            if table != mine:
                assert abs(table - mine) in (CONV3, CONV1), r['index']
                rows.append((int(r['index']), r['arch_str'], table, mine))
    with open(out, 'w', newline='') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(['index', 'arch_str', 'table_params', 'nasrank_params'])
        w.writerows(sorted(rows))
    print('%d anomalies -> %s' % (len(rows), out))


if __name__ == '__main__':
    main()
