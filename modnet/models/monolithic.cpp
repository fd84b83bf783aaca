#include "modnet/models/monolithic.h"

namespace modnet::models {

std::vector<int64_t> monolithic_hidden(const MonolithicOptions& o, int64_t in, int64_t out) {
  return o.widths(in, out);
}

MLP make_monolithic(const MonolithicOptions& o, const ModelContext& c) {
  return MLP(MLPOptions(c.input_dim, c.output_dim)
                 .hidden(monolithic_hidden(o, c.input_dim, c.output_dim))
                 .activation(o.activation));
}

}  // namespace modnet::models
