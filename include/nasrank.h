/* nasrank — rank neural architectures without training them.  Umbrella header. */
#ifndef NASRANK_H
#define NASRANK_H

#include "nasrank/error.h"
#include "nasrank/rng.h"
#include "nasrank/paths.h"
#include "nasrank/encoding.h"
#include "nasrank/csv.h"
#include "nasrank/table.h"
#include "nasrank/stats.h"
#include "nasrank/data.h"
#include "nasrank/graph.h"
#include "nasrank/graph_exec.h"
#include "nasrank/spaces.h"
#include "nasrank/net.h"
#include "nasrank/score.h"
#include "nasrank/proxy.h"
#include "nasrank/outfile.h"
#include "nasrank/predictor.h"
#include "nasrank/search.h"
#include "nasrank/plot.h"

#endif
