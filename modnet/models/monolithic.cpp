#include "modnet/models/monolithic.h"

namespace modnet::models {

std::vector<int64_t> monolithic_hidden(const MonolithicOptions& o, int64_t in, int64_t out) {
  if (o.params) return std::vector<int64_t>(o.depth, mlp_width_for_parameters(in, o.depth, out, *o.params));
  TORCH_CHECK(o.hidden, "monolithic model: give model.hidden or model.params");
  return *o.hidden;
}

MLP make_monolithic(const MonolithicOptions& o, const ModelContext& c) {
  return MLP(MLPOptions(c.input_dim, c.output_dim)
                 .hidden(monolithic_hidden(o, c.input_dim, c.output_dim))
                 .activation(o.activation));
}

}  // namespace modnet::models
