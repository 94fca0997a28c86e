/* harness/catalog.h — what the registries hold, for `xbench list`: the mixers (family,
 * complexity, trainable parameters of one layer at d=64, h=4, n_max=1024, modes, options
 * from each mixer's table, paper) and the tasks (shape, description, options with range and
 * default), as aligned text or as the Markdown tables of README.md. */
#ifndef XB_CATALOG_H
#define XB_CATALOG_H

#include <stdio.h>

void xb_catalog_mixers(FILE *f, int markdown);
void xb_catalog_tasks(FILE *f, int markdown);

#endif
