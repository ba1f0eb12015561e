// Injected by render-report.sh into a COPY of the report (the report itself
// has no scripts): measures the laid-out page in Chromium and writes what it
// found as JSON into a PRE element (id pd-probe) that --dump-dom returns.
(function () {
  var W0 = typeof PD_PROBE_WIDTH === 'number' ? PD_PROBE_WIDTH : window.innerWidth;
  var out = {width: W0, height: document.documentElement.scrollHeight, sections: [],
             errors: document.querySelectorAll('.pd-error').length, svg_text: [], cells: [], clipped: [],
             overlaps: [], wide: []};
  document.querySelectorAll('section.pd-section').forEach(function (s) { out.sections.push(s.id); });
  document.querySelectorAll('td, th').forEach(function (c) { out.cells.push(c.textContent); });
  // anything wider than the viewport makes the page scroll sideways
  document.querySelectorAll('main > section > *:not(.pd-chart):not(.pd-table-wrap)').forEach(function (e) {
    var r = e.getBoundingClientRect();
    if (r.right > W0 + 1) out.wide.push(e.tagName + '.' + e.className + ' ' + Math.round(r.right));
  });
  document.querySelectorAll('.pd-kpi').forEach(function (k) {
    if (k.scrollWidth > k.clientWidth + 1) out.wide.push('kpi "' + k.textContent + '"');
  });
  document.querySelectorAll('svg').forEach(function (svg) {
    var W = +svg.getAttribute('width'), H = +svg.getAttribute('height');
    var title = svg.querySelector('text') ? svg.querySelector('text').textContent : '?';
    var boxes = [];
    svg.querySelectorAll('text').forEach(function (t) {
      out.svg_text.push(t.textContent);
      if (t.getAttribute('transform')) return; // rotated axis titles
      var b = t.getBBox();
      if (b.width === 0) return;
      if (b.x < -0.5 || b.x + b.width > W + 0.5 || b.y < -0.5 || b.y + b.height > H + 0.5)
        out.clipped.push(title + ': "' + t.textContent + '" x ' + b.x.toFixed(1) + '..' +
                         (b.x + b.width).toFixed(1) + ' of ' + W);
      boxes.push({b: b, s: t.textContent});
    });
    // text on text: shrink each box a little (glyph boxes include line gaps)
    for (var i = 0; i < boxes.length; i++)
      for (var j = i + 1; j < boxes.length; j++) {
        var a = boxes[i].b, c = boxes[j].b, py = 0.25 * Math.min(a.height, c.height);
        if (a.x + 1 < c.x + c.width && c.x + 1 < a.x + a.width && a.y + py < c.y + c.height - py &&
            c.y + py < a.y + a.height - py)
          out.overlaps.push(title + ': "' + boxes[i].s + '" / "' + boxes[j].s + '"');
      }
  });
  var pre = document.createElement('pre');
  pre.id = 'pd-probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
