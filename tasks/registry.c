/* tasks/registry.c — the one table of tasks. Adding a task: one extern line and one
 * table entry here, plus its own file (see core/task.h). */
#include "tasks/registry.h"

#include <string.h>

extern const xb_task xb_task_mqar;
extern const xb_task xb_task_listops;
extern const xb_task xb_task_selective_copy;
extern const xb_task xb_task_induction_heads;
extern const xb_task xb_task_passkey;
extern const xb_task xb_task_parity;
extern const xb_task xb_task_majority;
extern const xb_task xb_task_text;
extern const xb_task xb_task_retrieval;
extern const xb_task xb_task_image;
extern const xb_task xb_task_pathfinder;
extern const xb_task xb_task_pathx;

const xb_task *const xb_tasks[] = {
    &xb_task_mqar,
    &xb_task_listops,
    &xb_task_selective_copy,
    &xb_task_induction_heads,
    &xb_task_passkey,
    &xb_task_parity,
    &xb_task_majority,
    &xb_task_text,
    &xb_task_retrieval,
    &xb_task_image,
    &xb_task_pathfinder,
    &xb_task_pathx,
    NULL
};

const int xb_n_tasks = (int)(sizeof xb_tasks / sizeof xb_tasks[0]) - 1;

const xb_task *xb_task_find(const char *name)
{
    for (int i = 0; xb_tasks[i]; i++)
        if (strcmp(xb_tasks[i]->name, name) == 0) return xb_tasks[i];
    return NULL;
}
