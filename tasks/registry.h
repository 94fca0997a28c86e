/* tasks/registry.h — the one table of tasks (tasks/registry.c). */
#ifndef XB_TASKS_REGISTRY_H
#define XB_TASKS_REGISTRY_H
#include "core/task.h"
extern const xb_task *const xb_tasks[];   /* NULL-terminated */
extern const int xb_n_tasks;
const xb_task *xb_task_find(const char *name);  /* NULL if unknown */
#endif
