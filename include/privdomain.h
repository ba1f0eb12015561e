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
#include "privdomain/tags.h"
#include "privdomain/scan.h"
/* charts */
#include "privdomain/chart.h"
#include "privdomain/report.h"
/* funnel, stages */
#include "privdomain/funnel.h"
#include "privdomain/stages.h"
/* retention, lifecycle */
#include "privdomain/retention.h"
/* referral */
#include "privdomain/referral.h"
/* clv */
#include "privdomain/clv.h"
#include "privdomain/rfm.h"
#include "privdomain/ltv.h"
/* touchpoints, attribution, segments */
#include "privdomain/attribution.h"
#include "privdomain/segments.h"
#include "privdomain/touchpoints.h"
/* rfm layers, membership */
#include "privdomain/rfm_layers.h"
#include "privdomain/membership.h"

#endif
