/* libprivdomain: funnel, retention, referral and CLV analytics over
 * memory-mapped event logs. The umbrella header: include this one. */
#ifndef PRIVDOMAIN_H
#define PRIVDOMAIN_H

#include "privdomain/common.h"
#include "privdomain/table.h"
#include "privdomain/model.h"
#include "privdomain/store.h"
#include "privdomain/writer.h"
#include "privdomain/ingest.h"
#include "privdomain/scan.h"
/* charts */
#include "privdomain/chart.h"
#include "privdomain/report.h"
/* funnel, stages */
#include "privdomain/funnel.h"
/* retention, lifecycle */
#include "privdomain/retention.h"
/* referral */
/* clv */
#include "privdomain/clv.h"
/* touchpoints, attribution, segments */

#endif
